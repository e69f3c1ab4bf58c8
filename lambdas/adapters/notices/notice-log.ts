import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PARTITIONS } from '../../contracts/table.js';
import { isConditionFailure } from '../dynamo-conditions.js';

/** What became of one notice: the channels it went to, and those it did not go to, with why. */
export interface NoticeRecord {
  readonly noticeId: string;
  readonly kind: string;
  readonly model: string;
  readonly subject: string;
  readonly sentAt?: string;
  readonly channels?: Readonly<Record<string, string>>;
}

const key = (noticeId: string) => ({ PK: `${PARTITIONS.notices.slice(0, -1)}${noticeId}`, SK: 'NOTICE' });
/** Records live 90 days: long enough for any redelivery (EventBridge retries for 6 hours). */
const TTL_SECONDS = 90 * 86_400;

/**
 * Once-per-event markers of notices, in the registry table: whoever claims a notice first (for a
 * short lease) sends it and marks it sent; a duplicate delivery finds the claim or the mark and
 * sends nothing. A claim whose sender died runs out, so a later delivery sends it.
 */
export class NoticeLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async claim(
    notice: Pick<NoticeRecord, 'noticeId' | 'kind' | 'model' | 'subject'>,
    leaseSeconds = 60,
  ): Promise<boolean> {
    const now = this.clock();
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key(notice.noticeId),
            ...notice,
            claimedAt: now.toISOString(),
            leaseUntil: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
            expiresAt: Math.floor(now.getTime() / 1000) + TTL_SECONDS,
          },
          ConditionExpression:
            'attribute_not_exists(PK) OR (attribute_not_exists(sentAt) AND leaseUntil <= :now)',
          ExpressionAttributeValues: { ':now': now.toISOString() },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Gives a claim back (the send failed), so the retried delivery sends it. */
  async release(noticeId: string): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(noticeId),
          UpdateExpression: 'SET leaseUntil = :past REMOVE claimedAt',
          ConditionExpression: 'attribute_not_exists(sentAt)',
          ExpressionAttributeValues: { ':past': new Date(0).toISOString() },
        }),
      )
      .catch((err) => {
        if (!isConditionFailure(err)) throw err;
      });
  }

  async markSent(noticeId: string, channels: Readonly<Record<string, string>>): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(noticeId),
        UpdateExpression: 'SET sentAt = :now, channels = :c',
        ExpressionAttributeValues: { ':now': this.clock().toISOString(), ':c': channels },
      }),
    );
  }

  async get(noticeId: string): Promise<NoticeRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key(noticeId), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { PK: _pk, SK: _sk, leaseUntil: _l, claimedAt: _c, expiresAt: _e, ...rest } = out.Item;
    return rest as NoticeRecord;
  }
}
