import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DriftRecord } from '../../domain/drift/record.js';
import { isConditionFailure } from '../dynamo-conditions.js';
import { type BaselinePointer, BaselineVersions, baselinePointerItem } from './baseline-versions.js';

export type { BaselinePointer } from './baseline-versions.js';

export type { DriftRecord };

/** How long a claim is held by default: the monitoring functions' timeout (15 minutes). */
export const DEFAULT_LEASE_SECONDS = 900;

/**
 * Drift items in the registry table: a BASELINE pointer and DRIFT#<time>#<batch> records in the
 * model's partition, S3EVENT# markers (with a TTL) that make duplicate S3 deliveries no-ops, and
 * a DRIFTRETRAIN item holding the retrain cool-down. See docs/drift.md.
 */
export class DriftStore {
  /** Every accepted baseline, and the audit trail of using and discarding them and batches. */
  readonly versions: BaselineVersions;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.versions = new BaselineVersions(doc, tableName);
  }

  private eventKey(bucket: string, key: string, version: string) {
    return { PK: `S3EVENT#${bucket}/${key}#${version}`, SK: 'S3EVENT' };
  }

  /**
   * True for the first delivery of an object version, or a redelivery after the lease of an
   * attempt that never finished (a crash, a timeout) ran out; false for a duplicate while an
   * attempt holds the lease, or once one has finished (completeEvent). `leaseSeconds`: the
   * function's timeout, after which the attempt holding it cannot still be running.
   */
  async claimEvent(
    bucket: string,
    key: string,
    version: string,
    now: Date,
    leaseSeconds = DEFAULT_LEASE_SECONDS,
  ): Promise<boolean> {
    const seconds = Math.floor(now.getTime() / 1000);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.eventKey(bucket, key, version),
            claimedAt: now.toISOString(),
            leaseUntil: seconds + leaseSeconds,
            expiresAt: seconds + 14 * 86_400,
          },
          // claims written before leases (no leaseUntil) stay held, as they always were
          ConditionExpression:
            'attribute_not_exists(PK) OR (attribute_not_exists(doneAt) AND leaseUntil < :now)',
          ExpressionAttributeValues: { ':now': seconds },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Marks a claimed delivery done: later deliveries of it are duplicates (for 14 days). */
  async completeEvent(bucket: string, key: string, version: string, now: Date): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.eventKey(bucket, key, version),
        UpdateExpression: 'SET doneAt = :done',
        ExpressionAttributeValues: { ':done': now.toISOString() },
      }),
    );
  }

  /** Gives a claim back after a transient failure, so the retried delivery is processed. */
  async releaseEvent(bucket: string, key: string, version: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: this.eventKey(bucket, key, version) }),
    );
  }

  /**
   * The kinds are stored as JSON text (`kindsJson`): column names are data, and the DynamoDB
   * marshaller cannot write a map with a key like "__proto__" (nor a null-prototype object).
   */
  async putBaseline(pointer: BaselinePointer): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: baselinePointerItem(pointer) }));
  }

  async getBaseline(model: string): Promise<BaselinePointer | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { PK: `MODEL#${model}`, SK: 'BASELINE' },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const { PK: _p, SK: _s, kindsJson, kinds, ...rest } = out.Item;
    // null prototype: a column named "constructor" is only there when the baseline had one
    const parsed = typeof kindsJson === 'string' ? JSON.parse(kindsJson) : (kinds ?? {}); // kinds: pointers before kindsJson
    return { ...rest, kinds: Object.assign(Object.create(null), parsed) } as BaselinePointer;
  }

  async putRecord(record: DriftRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { PK: `MODEL#${record.model}`, SK: `DRIFT#${record.checkedAt}#${record.batchId}`, ...record },
      }),
    );
  }

  /** Records checked at or after `since`, oldest first; batches set aside (discardBatch) only when asked. */
  async listRecords(
    model: string,
    since: Date,
    options: { includeDiscarded?: boolean } = {},
  ): Promise<DriftRecord[]> {
    const items: DriftRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
          ...(options.includeDiscarded ? {} : { FilterExpression: 'attribute_not_exists(discarded)' }),
          ExpressionAttributeValues: {
            ':pk': `MODEL#${model}`,
            ':from': `DRIFT#${since.toISOString()}`,
            ':to': 'DRIFT#~',
          },
          ExclusiveStartKey: start,
        }),
      );
      for (const i of page.Items ?? []) {
        const { PK: _p, SK: _s, ...rest } = i;
        items.push(rest as DriftRecord);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async findRecord(model: string, batchKey: string): Promise<DriftRecord | undefined> {
    const recent = await this.listRecords(model, new Date(Date.now() - 30 * 86_400_000), {
      includeDiscarded: true,
    });
    return recent.filter((r) => r.batchKey === batchKey).at(-1);
  }

  /** Takes the retrain cool-down if it has passed; false while it has not. */
  async claimRetrain(model: string, now: Date, cooldownHours: number): Promise<boolean> {
    const cutoff = new Date(now.getTime() - cooldownHours * 3_600_000).toISOString();
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: `MODEL#${model}`, SK: 'DRIFTRETRAIN' },
          UpdateExpression: 'SET lastStartedAt = :now',
          ConditionExpression: 'attribute_not_exists(lastStartedAt) OR lastStartedAt < :cutoff',
          ExpressionAttributeValues: { ':now': now.toISOString(), ':cutoff': cutoff },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
