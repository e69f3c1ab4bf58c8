import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  type CleanupRecord,
  cleanupRecordSchema,
  EMPTY_CLEANUP_RETENTION_DAYS,
} from '../../contracts/cleanup.js';
import { TABLE_KEYS } from '../../contracts/table.js';
import { isConditionFailure } from '../dynamo-conditions.js';
import { queryAll } from '../dynamo-query.js';
import { keys } from './keys.js';

const PREFIX = 'CLEANUP#';
const LEASE = 'CLEANUPLEASE';

/**
 * The cleanup history of each model (one item per real cleanup, `CLEANUP#<at>#<id>` in the
 * model's partition), and the per-model lease that keeps two cleanups (the daily one and one
 * after a deploy) from each archiving down to the floor of a different snapshot.
 */
export class CleanupHistory {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(record: CleanupRecord): Promise<void> {
    const expires = record.archived.length
      ? {}
      : {
          [TABLE_KEYS.ttlAttribute]:
            Math.floor(Date.parse(record.at) / 1000) + EMPTY_CLEANUP_RETENTION_DAYS * 86_400,
        };
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          PK: keys.model(record.model),
          SK: `${PREFIX}${record.at}#${record.id}`,
          entity: 'cleanup',
          ...record,
          ...expires,
        },
        ConditionExpression: 'attribute_not_exists(SK)',
      }),
    );
  }

  /** The model's cleanups, newest first. */
  async list(model: string, limit = 100): Promise<CleanupRecord[]> {
    const items = await queryAll(this.doc, this.tableName, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.model(model), ':prefix': PREFIX },
      ScanIndexForward: false,
    });
    return items.slice(0, limit).map((i) => {
      const { PK: _p, SK: _s, entity: _e, [TABLE_KEYS.ttlAttribute]: _t, ...rest } = i;
      return cleanupRecordSchema.parse(rest);
    });
  }

  /** Takes the model's cleanup lease until `until`; false while another holder's is live. */
  async acquire(model: string, holder: string, now: Date, seconds: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            PK: keys.model(model),
            SK: LEASE,
            holder,
            until: now.getTime() + seconds * 1000,
            [TABLE_KEYS.ttlAttribute]: Math.floor(now.getTime() / 1000) + seconds + 86_400,
          },
          ConditionExpression: 'attribute_not_exists(SK) OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now.getTime() },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async release(model: string, holder: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { PK: keys.model(model), SK: LEASE },
          ConditionExpression: 'holder = :h',
          ExpressionAttributeValues: { ':h': holder },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
}
