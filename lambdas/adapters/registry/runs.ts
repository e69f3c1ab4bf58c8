import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../../domain/errors.js';
import { runIdStamp } from '../../domain/registry/run-id.js';
import { ACTIVE_RUN_STATUSES, type RunRecord, type RunStatus } from '../../domain/registry/types.js';
import { isConditionFailure } from '../dynamo-conditions.js';
import { keys } from './keys.js';
import { type RegistryTable, strip } from './registry-table.js';

/** Which runs `listRuns` returns. */
export interface RunListFilter {
  readonly status?: RunStatus;
  /** Runs started at or after this time (to the second: a run id's precision). */
  readonly since?: Date;
}

/** "The run's execution still runs it" (`#s` is its status), as a condition and its values. */
const ACTIVE = {
  condition: `#s IN (${ACTIVE_RUN_STATUSES.map((s) => `:${s}`).join(', ')})`,
  values: Object.fromEntries(ACTIVE_RUN_STATUSES.map((s) => [`:${s}`, s])),
} as const;

/** Training runs: one item per run in its model's partition, newest first by run id. */
export class RunStore {
  constructor(private readonly t: RegistryTable) {}

  async putRun(run: RunRecord): Promise<void> {
    await this.t.doc.send(
      new PutCommand({
        TableName: this.t.tableName,
        Item: { PK: keys.model(run.model), SK: keys.run(run.runId), entity: 'run', ...run },
        ConditionExpression: 'attribute_not_exists(SK)',
      }),
    );
  }

  /**
   * Sets fields of a run. A patch that moves the status leaves a `cancelled` run as it is (the
   * states still running while its execution is being stopped must not undo the cancellation).
   */
  async updateRun(model: string, runId: string, patch: Partial<RunRecord>): Promise<void> {
    const entries = Object.entries(patch).filter(
      ([k, v]) => v !== undefined && k !== 'model' && k !== 'runId',
    );
    if (!entries.length) return;
    const guard = patch.status !== undefined;
    try {
      await this.t.doc.send(
        new UpdateCommand({
          TableName: this.t.tableName,
          Key: { PK: keys.model(model), SK: keys.run(runId) },
          UpdateExpression: `SET ${entries.map((_, i) => `#k${i} = :v${i}`).join(', ')}`,
          ExpressionAttributeNames: {
            ...Object.fromEntries(entries.map(([k], i) => [`#k${i}`, k])),
            ...(guard ? { '#status': 'status' } : {}),
          },
          ExpressionAttributeValues: {
            ...Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
            ...(guard ? { ':cancelled': 'cancelled' } : {}),
          },
          ConditionExpression: guard
            ? 'attribute_exists(SK) AND (attribute_not_exists(#status) OR #status <> :cancelled)'
            : 'attribute_exists(SK)',
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        if (guard && (await this.getRun(model, runId))?.status === 'cancelled') return;
        throw new NotFoundError(`run ${runId} of model ${model} does not exist`, undefined, { cause: err });
      }
      throw err;
    }
  }

  /**
   * Marks a run cancelled if its execution still runs (training, evaluating or registered), with
   * who, when and why. Returns the status it had, or, when it had already ended, undefined (read
   * the run again to say how it ended).
   */
  async cancelRunIfActive(
    model: string,
    runId: string,
    cancelled: NonNullable<RunRecord['cancelled']>,
  ): Promise<RunStatus | undefined> {
    try {
      const out = await this.t.doc.send(
        new UpdateCommand({
          TableName: this.t.tableName,
          Key: { PK: keys.model(model), SK: keys.run(runId) },
          UpdateExpression: 'SET #s = :cancelled, finishedAt = :at, cancelled = :c',
          ConditionExpression: `attribute_exists(SK) AND ${ACTIVE.condition}`,
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':cancelled': 'cancelled',
            ':at': cancelled.at,
            ':c': cancelled,
            ...ACTIVE.values,
          },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return out.Attributes?.status as RunStatus | undefined;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  /**
   * Undoes a cancellation whose execution could not be stopped (the caller is told why): the run
   * goes back to the status it had, if it is still the cancellation `at` recorded.
   */
  async restoreCancelled(model: string, runId: string, status: RunStatus, at: string): Promise<void> {
    try {
      await this.t.doc.send(
        new UpdateCommand({
          TableName: this.t.tableName,
          Key: { PK: keys.model(model), SK: keys.run(runId) },
          UpdateExpression: 'SET #s = :status REMOVE cancelled, finishedAt',
          ConditionExpression: '#s = :cancelled AND cancelled.#at = :at',
          ExpressionAttributeNames: { '#s': 'status', '#at': 'at' },
          ExpressionAttributeValues: { ':status': status, ':cancelled': 'cancelled', ':at': at },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /**
   * Marks a run failed if it has not finished (training, evaluating or registered): its
   * execution ended without saying so. False when the run is unknown or already finished.
   */
  failRunIfActive(
    model: string,
    runId: string,
    failure: NonNullable<RunRecord['failure']>,
    finishedAt: string,
  ): Promise<boolean> {
    return this.updateIf(model, runId, {
      set: 'SET #s = :failed, finishedAt = :at, failure = :failure',
      condition: ACTIVE.condition,
      values: { ':failed': 'failed', ':at': finishedAt, ':failure': failure, ...ACTIVE.values },
    });
  }

  /**
   * Records a sweep trial stopped by its early-stopping rule while it trains, if it still is
   * `training` (a trial whose training ended meanwhile is CheckTrial's to decide). False when
   * it was not.
   */
  stopTrialIfTraining(
    model: string,
    runId: string,
    sweep: NonNullable<RunRecord['sweep']>,
    finishedAt: string,
  ): Promise<boolean> {
    return this.updateIf(model, runId, {
      set: 'SET #s = :stopped, finishedAt = :at, sweep = :sweep',
      condition: '#s = :training',
      values: { ':stopped': 'stopped', ':training': 'training', ':at': finishedAt, ':sweep': sweep },
    });
  }

  /**
   * Records the last epoch a training sweep trial passed its early-stopping rule at, if it still
   * trains and had not passed a later one (the watcher's judgments arrive in any order).
   */
  recordJudgedThrough(model: string, runId: string, epoch: number): Promise<boolean> {
    return this.updateIf(model, runId, {
      set: 'SET sweep.judgedThrough = :e',
      condition:
        'attribute_exists(sweep) AND #s = :training AND (attribute_not_exists(sweep.judgedThrough) OR sweep.judgedThrough < :e)',
      values: { ':e': epoch, ':training': 'training' },
    });
  }

  /** One update of an existing run under a condition on it (`#s` is its status); false when unmet. */
  private async updateIf(
    model: string,
    runId: string,
    update: { set: string; condition: string; values: Record<string, unknown> },
  ): Promise<boolean> {
    try {
      await this.t.doc.send(
        new UpdateCommand({
          TableName: this.t.tableName,
          Key: { PK: keys.model(model), SK: keys.run(runId) },
          UpdateExpression: update.set,
          ConditionExpression: `attribute_exists(SK) AND ${update.condition}`,
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: update.values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async getRun(model: string, runId: string): Promise<RunRecord | undefined> {
    const out = await this.t.doc.send(
      new GetCommand({ TableName: this.t.tableName, Key: { PK: keys.model(model), SK: keys.run(runId) } }),
    );
    return strip<RunRecord>(out.Item);
  }

  /**
   * The newest `limit` runs, newest first, of a status and started in the second of `since` or
   * later if asked: run ids start with their UTC start time to the second, so `since` bounds the
   * key range, and pages are read until `limit` runs match, however old.
   */
  async listRuns(model: string, limit = 100, filter: RunListFilter = {}): Promise<RunRecord[]> {
    const since = filter.since ? keys.run(runIdStamp(filter.since)) : undefined;
    const items = await this.t.queryAll(
      {
        KeyConditionExpression: since
          ? 'PK = :pk AND SK BETWEEN :since AND :last'
          : 'PK = :pk AND begins_with(SK, :prefix)',
        ...(filter.status
          ? { FilterExpression: '#s = :status', ExpressionAttributeNames: { '#s': 'status' } }
          : {}),
        ExpressionAttributeValues: {
          ':pk': keys.model(model),
          ...(since ? { ':since': since, ':last': `${keys.runPrefix()}~` } : { ':prefix': keys.runPrefix() }),
          ...(filter.status ? { ':status': filter.status } : {}),
        },
        ScanIndexForward: false,
      },
      limit,
    );
    return items.map((i) => strip<RunRecord>(i) as RunRecord);
  }

  /**
   * Every trial run of one sweep, however many runs the model has had since. Read consistently:
   * PickBest and the early-stopping checks judge a trial against what its peers recorded last.
   */
  async listSweepRuns(model: string, sweepId: string): Promise<RunRecord[]> {
    const items = await this.t.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      FilterExpression: '#sweep.#id = :sweep',
      ExpressionAttributeNames: { '#sweep': 'sweep', '#id': 'id' },
      ExpressionAttributeValues: { ':pk': keys.model(model), ':prefix': keys.runPrefix(), ':sweep': sweepId },
      ConsistentRead: true,
    });
    return items.map((i) => strip<RunRecord>(i) as RunRecord);
  }
}
