import { randomUUID } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { BaselineAuditEntry, BaselineVersion, DiscardMark } from '../../domain/drift/baselines.js';
import type { DriftRecord } from '../../domain/drift/record.js';
import { ConflictError } from '../../domain/errors.js';
import type { ColumnKind } from '../../domain/profile/profile.js';
import { isConditionFailure } from '../dynamo-conditions.js';

/** The model's BASELINE item: the version batches are checked against (DriftStore reads it). */
export interface BaselinePointer {
  model: string;
  /** The baseline version it names (absent on pointers written before versions were kept). */
  id?: string;
  profileKey: string;
  sourceKey: string;
  rows: number;
  kinds: Record<string, ColumnKind>;
  createdAt: string;
}

/** A version as stored: the listing's fields and the column kinds a pointer to it needs. */
export interface StoredBaselineVersion extends BaselineVersion {
  readonly kinds: Record<string, ColumnKind>;
}

const pk = (model: string) => `MODEL#${model}`;

/**
 * The BASELINE item of a pointer: the one shape DriftStore.putBaseline and a switch of versions
 * write. The kinds are JSON text: column names are data, and the marshaller cannot write a map
 * key like "__proto__".
 */
export function baselinePointerItem(pointer: BaselinePointer): Record<string, unknown> {
  const { kinds, ...rest } = pointer;
  return { PK: pk(pointer.model), SK: 'BASELINE', ...rest, kindsJson: JSON.stringify(kinds) };
}
const versionSk = (id: string) => `BASELINEVERSION#${id}`;
const AUDIT = 'DRIFTAUDIT#';
const RETRAIN_SK = 'DRIFTRETRAIN';

/**
 * Baseline versions and the audit trail of decisions about them, in the model's partition of
 * the registry table: BASELINEVERSION#<id> (one per accepted upload, never overwritten),
 * DRIFTAUDIT#<time>#<nonce> (who used or discarded what, and why). The BASELINE pointer (see
 * DriftStore) names the active version. Every decision is one transaction with its audit entry,
 * conditional on what the caller's decision was based on, so it is whole or absent.
 */
export class BaselineVersions {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Keeps an accepted baseline as a version; a redelivery of the same upload changes nothing. */
  async put(version: StoredBaselineVersion): Promise<void> {
    const { kinds, ...rest } = version;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            PK: pk(version.model),
            SK: versionSk(version.id),
            ...rest,
            kindsJson: JSON.stringify(kinds),
          },
          ConditionExpression: 'attribute_not_exists(SK)',
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async list(model: string): Promise<StoredBaselineVersion[]> {
    return (await this.query(model, 'BASELINEVERSION#')).map(fromItem);
  }

  async get(model: string, id: string): Promise<StoredBaselineVersion | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { PK: pk(model), SK: versionSk(id) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  /** The audit trail of a model, oldest first. */
  async audit(model: string): Promise<BaselineAuditEntry[]> {
    return (await this.query(model, AUDIT)).map((i) => {
      const { PK: _p, SK: _s, ...rest } = i;
      return rest as unknown as BaselineAuditEntry;
    });
  }

  /**
   * Points the model's baseline at `version`, with its audit entry: refused (ConflictError) when
   * the pointer no longer names `expectedProfileKey` or the version was discarded meanwhile.
   */
  async use(
    version: StoredBaselineVersion,
    expectedProfileKey: string | undefined,
    audit: BaselineAuditEntry,
  ): Promise<void> {
    const pointer = baselinePointerItem({
      model: version.model,
      id: version.id,
      profileKey: version.profileKey,
      sourceKey: version.sourceKey,
      rows: version.rows,
      kinds: version.kinds,
      createdAt: version.uploadedAt,
    });
    await this.transact(`using baseline ${version.id} of ${version.model}`, [
      {
        Put: {
          TableName: this.tableName,
          Item: pointer,
          ...(expectedProfileKey
            ? {
                ConditionExpression: 'profileKey = :expected',
                ExpressionAttributeValues: { ':expected': expectedProfileKey },
              }
            : { ConditionExpression: 'attribute_not_exists(SK)' }),
        },
      },
      {
        ConditionCheck: {
          TableName: this.tableName,
          Key: { PK: pk(version.model), SK: versionSk(version.id) },
          ConditionExpression: 'attribute_exists(SK) AND attribute_not_exists(discarded)',
        },
      },
      this.auditPut(audit),
    ]);
  }

  /** Marks a version discarded, with its audit entry: refused if it became active or was discarded meanwhile. */
  async discard(version: BaselineVersion, mark: DiscardMark, audit: BaselineAuditEntry): Promise<void> {
    await this.transact(`discarding baseline ${version.id} of ${version.model}`, [
      {
        Update: {
          TableName: this.tableName,
          Key: { PK: pk(version.model), SK: versionSk(version.id) },
          UpdateExpression: 'SET discarded = :mark',
          ConditionExpression: 'attribute_exists(SK) AND attribute_not_exists(discarded)',
          ExpressionAttributeValues: { ':mark': mark },
        },
      },
      {
        ConditionCheck: {
          TableName: this.tableName,
          Key: { PK: pk(version.model), SK: 'BASELINE' },
          ConditionExpression: 'attribute_not_exists(profileKey) OR profileKey <> :pk',
          ExpressionAttributeValues: { ':pk': version.profileKey },
        },
      },
      this.auditPut(audit),
    ]);
  }

  /**
   * Every record of a batch key, discarded ones too, oldest first (a key uploaded twice has two).
   * Reads the model's whole drift history: a decision, not a hot path.
   */
  async recordsOf(model: string, batchKey: string): Promise<DriftRecord[]> {
    const items = await this.query(model, 'DRIFT#', {
      FilterExpression: 'batchKey = :key',
      ExpressionAttributeValues: { ':key': batchKey },
    });
    return items.map((i) => {
      const { PK: _p, SK: _s, ...rest } = i;
      return rest as unknown as DriftRecord;
    });
  }

  /**
   * Marks a batch's record discarded, with its audit entry. When that batch's critical drift took
   * the retrain cool-down (it started a retrain at its check), the cool-down is given back in the
   * same transaction, so the next real critical batch is not held back by a bad one.
   */
  async discardBatch(record: DriftRecord, mark: DiscardMark, audit: BaselineAuditEntry): Promise<boolean> {
    const key = { PK: pk(record.model) };
    let releaseCooldown = false;
    if (record.retrainExecution) {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: { ...key, SK: RETRAIN_SK }, ConsistentRead: true }),
      );
      releaseCooldown = out.Item?.lastStartedAt === record.checkedAt;
    }
    await this.transact(`discarding batch ${record.batchKey} of ${record.model}`, [
      {
        Update: {
          TableName: this.tableName,
          Key: { ...key, SK: `DRIFT#${record.checkedAt}#${record.batchId}` },
          UpdateExpression: 'SET discarded = :mark',
          ConditionExpression: 'attribute_exists(SK) AND attribute_not_exists(discarded)',
          ExpressionAttributeValues: { ':mark': mark },
        },
      },
      this.auditPut(audit),
      ...(releaseCooldown
        ? [
            {
              Update: {
                TableName: this.tableName,
                Key: { ...key, SK: RETRAIN_SK },
                UpdateExpression: 'REMOVE lastStartedAt',
                ConditionExpression: 'lastStartedAt = :at',
                ExpressionAttributeValues: { ':at': record.checkedAt },
              },
            },
          ]
        : []),
    ]);
    return releaseCooldown;
  }

  private auditPut(audit: BaselineAuditEntry) {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          PK: pk(audit.model),
          SK: `${AUDIT}${audit.at}#${randomUUID().slice(0, 8)}`,
          ...audit,
        },
        ConditionExpression: 'attribute_not_exists(SK)',
      },
    };
  }

  private async transact(
    what: string,
    items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>,
  ): Promise<void> {
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      throw new ConflictError(
        `${what}: the baselines changed meanwhile (someone else decided first); nothing was written: list them again and retry`,
        undefined,
        { cause: err },
      );
    }
  }

  private async query(
    model: string,
    prefix: string,
    filter:
      | { FilterExpression: string; ExpressionAttributeValues: Record<string, unknown> }
      | undefined = undefined,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
          ...(filter ? { FilterExpression: filter.FilterExpression } : {}),
          ExpressionAttributeValues: {
            ':pk': pk(model),
            ':prefix': prefix,
            ...(filter?.ExpressionAttributeValues ?? {}),
          },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((page.Items ?? []) as Record<string, unknown>[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

function fromItem(item: Record<string, unknown>): StoredBaselineVersion {
  const { PK: _p, SK: _s, kindsJson, ...rest } = item;
  // null prototype: column names are data (a column may be called "constructor")
  const kinds = Object.assign(
    Object.create(null),
    typeof kindsJson === 'string' ? JSON.parse(kindsJson) : {},
  );
  return { ...(rest as unknown as BaselineVersion), kinds };
}
