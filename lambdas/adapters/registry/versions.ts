import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { maxVersion, nextVersion, parseVersion } from '../../domain/registry/semver.js';
import { assertTransition, type VersionStatus } from '../../domain/registry/status.js';
import type { RegisterVersionInput, VersionRecord } from '../../domain/registry/types.js';
import {
  cancellationCodes,
  isConditionFailure,
  RetryableConflict,
  withOptimisticRetry,
} from '../dynamo-conditions.js';
import { keys } from './keys.js';
import { type RegistryTable, strip } from './registry-table.js';

/** What the model's META item says: its newest version and how many it has. */
export interface ModelMeta {
  readonly latestVersion: string;
  readonly versionCount: number;
  readonly createdAt: string;
}

/**
 * Model versions: semantic versions allocated atomically with the model's counter (its META
 * item), their records and their status changes.
 */
export class VersionStore {
  constructor(private readonly t: RegistryTable) {}

  /**
   * Allocates the version and writes it in one transaction with the model's counter: N callers
   * at once get N distinct versions; an explicit version that exists is refused.
   */
  async registerVersion(input: RegisterVersionInput): Promise<VersionRecord> {
    const explicit = input.version ? parseVersion(input.version) : undefined;
    if (!explicit && !input.bump)
      throw new ValidationError('registerVersion needs a bump kind or an explicit version');
    return withOptimisticRetry(`allocating a version of ${input.model}`, async () => {
      const meta = (
        await this.t.doc.send(
          new GetCommand({
            TableName: this.t.tableName,
            Key: { PK: keys.model(input.model), SK: keys.meta() },
            ConsistentRead: true,
          }),
        )
      ).Item as { latestVersion?: string; versionCount?: number } | undefined;
      const latest = meta?.latestVersion;
      const version = explicit ?? nextVersion(latest, input.bump ?? 'minor');
      const now = this.t.now();
      const status: VersionStatus = input.status ?? 'validating';
      const record: VersionRecord = {
        model: input.model,
        version,
        status,
        metrics: input.metrics,
        ...(input.reportedMetrics ? { reportedMetrics: input.reportedMetrics } : {}),
        lineage: input.lineage,
        createdAt: now,
        statusHistory: [
          { from: null, to: status, at: now, reason: 'registered', actor: input.lineage.author },
        ],
      };
      try {
        await this.t.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.t.tableName,
                  Key: { PK: keys.model(input.model), SK: keys.meta() },
                  UpdateExpression:
                    'SET latestVersion = :next, model = :model, entity = :meta, GSI1PK = :index, GSI1SK = :model, createdAt = if_not_exists(createdAt, :now) ADD versionCount :one',
                  ConditionExpression: latest
                    ? 'latestVersion = :latest'
                    : 'attribute_not_exists(latestVersion)',
                  ExpressionAttributeValues: {
                    ':next': maxVersion(latest, version),
                    ':model': input.model,
                    ':meta': 'meta',
                    ':index': keys.modelsIndex(),
                    ':now': now,
                    ':one': 1,
                    ...(latest ? { ':latest': latest } : {}),
                  },
                },
              },
              {
                Put: {
                  TableName: this.t.tableName,
                  Item: {
                    PK: keys.model(input.model),
                    SK: keys.version(version),
                    entity: 'version',
                    ...record,
                  },
                  ConditionExpression: 'attribute_not_exists(SK)',
                },
              },
            ],
          }),
        );
        return record;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const [counter, put] = cancellationCodes(err);
        if (put === 'ConditionalCheckFailed' && explicit) {
          throw new ConflictError(
            `${input.model} ${explicit} already exists; versions are never reused`,
            undefined,
            {
              cause: err,
            },
          );
        }
        if (
          counter === 'ConditionalCheckFailed' ||
          put === 'ConditionalCheckFailed' ||
          counter === 'TransactionConflict'
        ) {
          throw new RetryableConflict();
        }
        throw new RetryableConflict();
      }
    });
  }

  async getVersion(model: string, version: string): Promise<VersionRecord | undefined> {
    const out = await this.t.doc.send(
      new GetCommand({
        TableName: this.t.tableName,
        Key: { PK: keys.model(model), SK: keys.version(parseVersion(version)) },
        ConsistentRead: true,
      }),
    );
    return strip<VersionRecord>(out.Item);
  }

  async requireVersion(model: string, version: string): Promise<VersionRecord> {
    const found = await this.getVersion(model, version);
    if (!found) {
      const known = await this.getModel(model);
      throw new NotFoundError(
        known
          ? `model ${model} has no version ${version}`
          : `unknown model "${model}" (nothing registered under that name)`,
      );
    }
    return found;
  }

  /** Newest semantic version first. */
  async listVersions(model: string): Promise<VersionRecord[]> {
    const items = await this.t.queryPrefix(model, keys.versionPrefix(), true);
    return items.map((i) => strip<VersionRecord>(i) as VersionRecord);
  }

  async transition(
    model: string,
    version: string,
    to: VersionStatus,
    reason: string,
    actor: string,
  ): Promise<VersionRecord> {
    return withOptimisticRetry(`changing the status of ${model} ${version}`, async () => {
      const current = await this.requireVersion(model, version);
      assertTransition(model, version, current.status, to);
      const change = { from: current.status, to, at: this.t.now(), reason, actor };
      try {
        await this.t.doc.send(
          new UpdateCommand({
            TableName: this.t.tableName,
            Key: { PK: keys.model(model), SK: keys.version(version) },
            UpdateExpression: 'SET #s = :to, statusHistory = list_append(statusHistory, :change)',
            ConditionExpression: '#s = :from',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':to': to, ':from': current.status, ':change': [change] },
          }),
        );
      } catch (err) {
        if (isConditionFailure(err)) throw new RetryableConflict();
        throw err;
      }
      return { ...current, status: to, statusHistory: [...current.statusHistory, change] };
    });
  }

  async getModel(model: string): Promise<ModelMeta | undefined> {
    const out = await this.t.doc.send(
      new GetCommand({ TableName: this.t.tableName, Key: { PK: keys.model(model), SK: keys.meta() } }),
    );
    return out.Item as ModelMeta | undefined;
  }
}
