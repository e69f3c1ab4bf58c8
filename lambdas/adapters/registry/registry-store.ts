import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from '../../contracts/table.js';
import {
  ConflictError,
  IllegalTransitionError,
  NotFoundError,
  ValidationError,
} from '../../domain/errors.js';
import { compareVersions, maxVersion, nextVersion, parseVersion } from '../../domain/registry/semver.js';
import { assertTransition, SERVABLE, type VersionStatus } from '../../domain/registry/status.js';
import {
  isStageChange,
  type LedgerEntry,
  type ModelSummary,
  type PromoteInput,
  type RegisterVersionInput,
  type RegistryStats,
  type RunRecord,
  type StagePointer,
  type VersionRecord,
} from '../../domain/registry/types.js';
import {
  cancellationCodes,
  isConditionFailure,
  RetryableConflict,
  withOptimisticRetry,
} from '../dynamo-conditions.js';
import { type Item, queryAll } from '../dynamo-query.js';
import { keys } from './keys.js';

function strip<T>(item: Item | undefined): T | undefined {
  if (!item) return undefined;
  const { PK: _pk, SK: _sk, GSI1PK: _g1, GSI1SK: _g2, entity: _e, ...rest } = item;
  return rest as T;
}

/**
 * The model registry on DynamoDB: runs, versions (atomic semver allocation), stage pointers and
 * the append-only promotion ledger, written in one transaction with the pointer it moves.
 * Item design: docs/registry-table.md.
 */
export class RegistryStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private now(): string {
    return this.clock().toISOString();
  }

  private queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    return queryAll(this.doc, this.tableName, input);
  }

  private queryPrefix(model: string, prefix: string, newestFirst = false): Promise<Item[]> {
    return this.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.model(model), ':prefix': prefix },
      ScanIndexForward: !newestFirst,
    });
  }

  // ---- runs -------------------------------------------------------------------------------

  async putRun(run: RunRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { PK: keys.model(run.model), SK: keys.run(run.runId), entity: 'run', ...run },
        ConditionExpression: 'attribute_not_exists(SK)',
      }),
    );
  }

  async updateRun(model: string, runId: string, patch: Partial<RunRecord>): Promise<void> {
    const entries = Object.entries(patch).filter(
      ([k, v]) => v !== undefined && k !== 'model' && k !== 'runId',
    );
    if (!entries.length) return;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: keys.model(model), SK: keys.run(runId) },
          UpdateExpression: `SET ${entries.map((_, i) => `#k${i} = :v${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#k${i}`, k])),
          ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
          ConditionExpression: 'attribute_exists(SK)',
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new NotFoundError(`run ${runId} of model ${model} does not exist`);
      throw err;
    }
  }

  /**
   * Marks a run failed if it has not finished (training, evaluating or registered): its
   * execution ended without saying so. False when the run is unknown or already finished.
   */
  async failRunIfActive(
    model: string,
    runId: string,
    failure: NonNullable<RunRecord['failure']>,
    finishedAt: string,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: keys.model(model), SK: keys.run(runId) },
          UpdateExpression: 'SET #s = :failed, finishedAt = :at, failure = :failure',
          ConditionExpression: 'attribute_exists(SK) AND #s IN (:training, :evaluating, :registered)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':failed': 'failed',
            ':at': finishedAt,
            ':failure': failure,
            ':training': 'training',
            ':evaluating': 'evaluating',
            ':registered': 'registered',
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async getRun(model: string, runId: string): Promise<RunRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { PK: keys.model(model), SK: keys.run(runId) } }),
    );
    return strip<RunRecord>(out.Item);
  }

  /** Newest first (run ids start with their UTC start time). */
  async listRuns(model: string, limit = 100): Promise<RunRecord[]> {
    const items = await this.queryPrefix(model, keys.runPrefix(), true);
    return items.slice(0, limit).map((i) => strip<RunRecord>(i) as RunRecord);
  }

  // ---- versions ---------------------------------------------------------------------------

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
        await this.doc.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { PK: keys.model(input.model), SK: keys.meta() },
            ConsistentRead: true,
          }),
        )
      ).Item as { latestVersion?: string; versionCount?: number } | undefined;
      const latest = meta?.latestVersion;
      const version = explicit ?? nextVersion(latest, input.bump ?? 'minor');
      const now = this.now();
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
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.tableName,
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
                  TableName: this.tableName,
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
          throw new ConflictError(`${input.model} ${explicit} already exists; versions are never reused`);
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
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
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
    const items = await this.queryPrefix(model, keys.versionPrefix(), true);
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
      const change = { from: current.status, to, at: this.now(), reason, actor };
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
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

  // ---- stages and the ledger ----------------------------------------------------------------

  async getStage(model: string, stage: string): Promise<StagePointer | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { PK: keys.model(model), SK: keys.stage(stage) },
        ConsistentRead: true,
      }),
    );
    return strip<StagePointer>(out.Item);
  }

  async listStages(model: string): Promise<StagePointer[]> {
    return (await this.queryPrefix(model, keys.stagePrefix())).map(
      (i) => strip<StagePointer>(i) as StagePointer,
    );
  }

  /**
   * Moves a stage to a version: the pointer, the next ledger entry and the version's status in
   * one transaction, conditional on the pointer still being at the sequence number read, so
   * concurrent promotions form one chain.
   */
  async promote(input: PromoteInput): Promise<LedgerEntry> {
    const version = parseVersion(input.version);
    return withOptimisticRetry(`promoting ${input.model} ${version} to ${input.stage}`, async () => {
      const out = await this.attemptPromote(input, version);
      return out.entry;
    });
  }

  /**
   * `promote`, at most once per idempotency key (e.g. one per pipeline execution): the key is
   * kept in the ledger entry's evidence, and a call whose key is already in the stage's ledger
   * returns that entry (`created: false`) and writes nothing, even when newer entries have moved
   * the stage since — a redelivered Deploy must not move a stage back to what it deployed then.
   * The key is looked up after the pointer is read and the write is conditional on that
   * pointer, so two concurrent calls with one key cannot both append.
   */
  async promoteOnce(
    input: PromoteInput & { idempotencyKey: string },
  ): Promise<{ entry: LedgerEntry; created: boolean }> {
    const version = parseVersion(input.version);
    const { idempotencyKey, ...rest } = input;
    const evidence: LedgerEntry['evidence'] & { idempotencyKey: string } = {
      ...input.evidence,
      idempotencyKey,
    };
    return withOptimisticRetry(`promoting ${input.model} ${version} to ${input.stage}`, () =>
      this.attemptPromote({ ...rest, evidence }, version, () =>
        this.findByIdempotencyKey(input.model, input.stage, idempotencyKey),
      ),
    );
  }

  /** The stage change recorded with this idempotency key (see promoteOnce), if any. */
  async findByIdempotencyKey(model: string, stage: string, key: string): Promise<LedgerEntry | undefined> {
    const items = await this.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      FilterExpression: 'evidence.idempotencyKey = :key',
      ExpressionAttributeValues: {
        ':pk': keys.model(model),
        ':prefix': keys.ledgerPrefix(stage),
        ':key': key,
      },
      ConsistentRead: true,
    });
    return items.map((i) => strip<LedgerEntry>(i) as LedgerEntry).find(isStageChange);
  }

  /**
   * The stage change that an approval request authorised (Deploy records the request's id in
   * the entry's evidence), if any: an approval deploys once.
   */
  async findByApprovalRequest(
    model: string,
    stage: string,
    requestId: string,
  ): Promise<LedgerEntry | undefined> {
    const items = await this.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      FilterExpression: 'evidence.requestId = :id',
      ExpressionAttributeValues: {
        ':pk': keys.model(model),
        ':prefix': keys.ledgerPrefix(stage),
        ':id': requestId,
      },
      ConsistentRead: true,
    });
    return items.map((i) => strip<LedgerEntry>(i) as LedgerEntry).find(isStageChange);
  }

  private async attemptPromote(
    input: PromoteInput,
    version: string,
    existing?: () => Promise<LedgerEntry | undefined>,
  ): Promise<{ entry: LedgerEntry; created: boolean }> {
    const [pointer, record] = await Promise.all([
      this.getStage(input.model, input.stage),
      this.requireVersion(input.model, version),
    ]);
    // Read after the pointer: an entry committed before that read is visible here, and one
    // committed after it fails the write's condition on the pointer, so the retry sees it.
    const found = await existing?.();
    if (found) return { entry: found, created: false };
    if (!SERVABLE.includes(record.status)) {
      throw new IllegalTransitionError(
        `${input.model} ${version} is ${record.status}; only ${SERVABLE.join(' or ')} versions can serve a stage`,
      );
    }
    const seq = (pointer?.ledgerSeq ?? 0) + 1;
    const at = this.now();
    const entry: LedgerEntry = {
      model: input.model,
      stage: input.stage,
      seq,
      action: input.action,
      fromVersion: pointer?.version ?? null,
      toVersion: version,
      actor: input.actor,
      reason: input.reason,
      at,
      evidence: input.evidence ?? {},
    };
    const next: StagePointer = {
      model: input.model,
      stage: input.stage,
      version,
      ledgerSeq: seq,
      since: at,
    };
    const statusChange =
      record.status === 'ready'
        ? undefined
        : {
            from: record.status,
            to: 'ready' as const,
            at,
            reason: `${input.action} to ${input.stage}`,
            actor: input.actor,
          };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  PK: keys.model(input.model),
                  SK: keys.stage(input.stage),
                  entity: 'stage',
                  ...next,
                },
                ConditionExpression: pointer ? 'ledgerSeq = :seq' : 'attribute_not_exists(SK)',
                ...(pointer ? { ExpressionAttributeValues: { ':seq': pointer.ledgerSeq } } : {}),
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  PK: keys.model(input.model),
                  SK: keys.ledger(input.stage, seq),
                  entity: 'ledger',
                  ...entry,
                },
                ConditionExpression: 'attribute_not_exists(SK)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: { PK: keys.model(input.model), SK: keys.version(version) },
                UpdateExpression: statusChange
                  ? 'SET #s = :ready, statusHistory = list_append(statusHistory, :change)'
                  : 'SET lastPromotedAt = :at',
                ConditionExpression: '#s = :status',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: {
                  ':status': record.status,
                  ...(statusChange ? { ':ready': 'ready', ':change': [statusChange] } : { ':at': at }),
                },
              },
            },
          ],
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new RetryableConflict();
      throw err;
    }
    return { entry, created: true };
  }

  /** Ledger entries, newest first; with `at`, only those made at or before that time. */
  async history(model: string, options: { stage?: string; at?: Date } = {}): Promise<LedgerEntry[]> {
    const entries = (await this.queryPrefix(model, keys.ledgerPrefix(options.stage), true)).map(
      (i) => strip<LedgerEntry>(i) as LedgerEntry,
    );
    const at = options.at?.toISOString();
    return entries
      .filter((e) => !at || e.at <= at)
      .sort((a, b) => (a.at === b.at ? b.seq - a.seq : a.at < b.at ? 1 : -1));
  }

  /** The stage change with this sequence number (a stage pointer's `ledgerSeq` names one). */
  async getLedgerEntry(model: string, stage: string, seq: number): Promise<LedgerEntry | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { PK: keys.model(model), SK: keys.ledger(stage, seq) },
        ConsistentRead: true,
      }),
    );
    return strip<LedgerEntry>(out.Item);
  }

  /** The ledger entry that was in force for a stage at time T (what was serving then). */
  async servingAt(model: string, stage: string, at: Date): Promise<LedgerEntry | undefined> {
    return (await this.history(model, { stage, at })).find(isStageChange);
  }

  /**
   * Records that the approvers refused a promotion: an append-only `reject` entry in the
   * stage's ledger, keyed after the change in force, that leaves the pointer where it is. One
   * per approval request, so a redelivered rejection writes nothing twice.
   */
  async recordRejection(input: {
    model: string;
    stage: string;
    version: string;
    requestId: string;
    actor: string;
    reason: string;
    evidence?: LedgerEntry['evidence'];
  }): Promise<LedgerEntry> {
    const pointer = await this.getStage(input.model, input.stage);
    const entry: LedgerEntry = {
      model: input.model,
      stage: input.stage,
      seq: pointer?.ledgerSeq ?? 0,
      action: 'reject',
      fromVersion: pointer?.version ?? null,
      toVersion: parseVersion(input.version),
      actor: input.actor,
      reason: input.reason,
      at: this.now(),
      evidence: { ...input.evidence, requestId: input.requestId },
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            PK: keys.model(input.model),
            SK: keys.ledgerRejection(input.stage, entry.seq, input.requestId),
            entity: 'ledger',
            ...entry,
          },
          ConditionExpression: 'attribute_not_exists(SK)',
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    return entry;
  }

  // ---- models and stats ---------------------------------------------------------------------

  async getModel(
    model: string,
  ): Promise<{ latestVersion: string; versionCount: number; createdAt: string } | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { PK: keys.model(model), SK: keys.meta() } }),
    );
    return out.Item as { latestVersion: string; versionCount: number; createdAt: string } | undefined;
  }

  async listModels(): Promise<ModelSummary[]> {
    const metas = await this.queryAll({
      IndexName: TABLE_KEYS.gsi1.indexName,
      KeyConditionExpression: 'GSI1PK = :index',
      ExpressionAttributeValues: { ':index': keys.modelsIndex() },
    });
    return Promise.all(
      metas.map(async (m) => {
        const model = String(m.model);
        const stages = await this.listStages(model);
        return {
          model,
          latestVersion: String(m.latestVersion),
          versionCount: Number(m.versionCount ?? 0),
          createdAt: String(m.createdAt ?? ''),
          stages: Object.fromEntries(stages.map((s) => [s.stage, s.version])),
        };
      }),
    );
  }

  async stats(model?: string): Promise<RegistryStats> {
    const models = model ? [model] : (await this.listModels()).map((m) => m.model);
    const since = new Date(this.clock().getTime() - 7 * 86_400_000).toISOString();
    const stats: RegistryStats = {
      models: models.length,
      versionsByStatus: {},
      servingByStage: {},
      deploymentsLast7Days: 0,
      pendingPromotions: 0,
    };
    for (const m of models) {
      for (const v of await this.listVersions(m)) {
        stats.versionsByStatus[v.status] = (stats.versionsByStatus[v.status] ?? 0) + 1;
        if (v.status === 'validating') stats.pendingPromotions++;
      }
      for (const s of await this.listStages(m))
        stats.servingByStage[s.stage] = (stats.servingByStage[s.stage] ?? 0) + 1;
      stats.deploymentsLast7Days += (await this.history(m)).filter(
        (e) => isStageChange(e) && e.at >= since,
      ).length;
    }
    return stats;
  }
}

export { compareVersions };
