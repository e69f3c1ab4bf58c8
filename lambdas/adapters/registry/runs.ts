import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../../domain/errors.js';
import type { RunRecord } from '../../domain/registry/types.js';
import { isConditionFailure } from '../dynamo-conditions.js';
import { keys } from './keys.js';
import { type RegistryTable, strip } from './registry-table.js';

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

  async updateRun(model: string, runId: string, patch: Partial<RunRecord>): Promise<void> {
    const entries = Object.entries(patch).filter(
      ([k, v]) => v !== undefined && k !== 'model' && k !== 'runId',
    );
    if (!entries.length) return;
    try {
      await this.t.doc.send(
        new UpdateCommand({
          TableName: this.t.tableName,
          Key: { PK: keys.model(model), SK: keys.run(runId) },
          UpdateExpression: `SET ${entries.map((_, i) => `#k${i} = :v${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#k${i}`, k])),
          ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
          ConditionExpression: 'attribute_exists(SK)',
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        throw new NotFoundError(`run ${runId} of model ${model} does not exist`, undefined, { cause: err });
      }
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
      await this.t.doc.send(
        new UpdateCommand({
          TableName: this.t.tableName,
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
    const out = await this.t.doc.send(
      new GetCommand({ TableName: this.t.tableName, Key: { PK: keys.model(model), SK: keys.run(runId) } }),
    );
    return strip<RunRecord>(out.Item);
  }

  /** Newest first (run ids start with their UTC start time). */
  async listRuns(model: string, limit = 100): Promise<RunRecord[]> {
    const items = await this.t.queryPrefix(model, keys.runPrefix(), true);
    return items.slice(0, limit).map((i) => strip<RunRecord>(i) as RunRecord);
  }
}
