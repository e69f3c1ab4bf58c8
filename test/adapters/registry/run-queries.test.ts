import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keys } from '../../../lambdas/adapters/registry/keys.js';
import { Registry } from '../../../lambdas/adapters/registry/registry.js';
import type { RunRecord, RunStatus } from '../../../lambdas/domain/registry/types.js';
import { sweepRuns } from '../../../lambdas/services/sweeps/check-trial.js';
import { startTestDynamo, type TestDynamo } from '../../support/emulators.js';

const run = (
  runId: string,
  sweep?: { id: string; trial: number },
  status: RunStatus = 'evaluated',
): RunRecord => ({
  model: 'churn',
  runId,
  stage: 'staging',
  status,
  trigger: 'manual',
  requestedBy: 'a@studio.test',
  reason: 'history',
  datasetUri: 's3://b/datasets/churn/churn.csv',
  hyperparameters: {},
  startedAt: '2026-01-01T00:00:00.000Z',
  ...(sweep ? { sweep } : {}),
});

/** Run ids sort by their start time: `<yyyymmdd>T<hhmmss>Z-<n>`, second by second from `from`. */
const runIds = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => {
    const at = new Date(Date.UTC(2026, 0, 1) + (from + i) * 1000).toISOString();
    return `${at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${String(from + i).padStart(6, '0')}`;
  });

async function putAll(doc: DynamoDBDocumentClient, table: string, runs: readonly RunRecord[]) {
  for (let i = 0; i < runs.length; i += 25) {
    await doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [table]: runs.slice(i, i + 25).map((r) => ({
            PutRequest: { Item: { PK: keys.model(r.model), SK: keys.run(r.runId), entity: 'run', ...r } },
          })),
        },
      }),
    );
  }
}

/** The run queries on DynamoDB Local, on a model with a long history. */
describe('run queries on a model with over a thousand runs', () => {
  let dynamo: TestDynamo;
  let store: Registry;
  const [old0, old1, ...later] = runIds(0, 1_203);
  beforeAll(async () => {
    dynamo = await startTestDynamo();
    const table = await dynamo.newTable();
    store = new Registry(dynamo.doc, table);
    // A sweep of two trials, then 1,201 newer runs, two of them another sweep's.
    await putAll(dynamo.doc, table, [
      // Started together: trial 1's run id sorts first.
      run(old0 as string, { id: 'churn-staging-sweep-old', trial: 1 }, 'failed'),
      run(old1 as string, { id: 'churn-staging-sweep-old', trial: 0 }, 'stopped'),
      ...later.map((id, i) =>
        run(id, i % 600 === 0 ? { id: 'churn-staging-sweep-new', trial: i / 600 } : undefined),
      ),
    ]);
  }, 120_000);
  afterAll(async () => {
    await dynamo?.stop();
  });

  it('finds every trial of a sweep however many runs came after it (PickBest, the watcher, sweep status)', async () => {
    const old = await sweepRuns(store, 'churn', 'churn-staging-sweep-old');
    expect(old.map((r) => [r.sweep.trial, r.runId])).toEqual([
      [0, old1],
      [1, old0],
    ]);
    expect((await sweepRuns(store, 'churn', 'churn-staging-sweep-new')).map((r) => r.sweep.trial)).toEqual([
      0, 1, 2,
    ]);
    expect(await sweepRuns(store, 'churn', 'churn-staging-sweep-none')).toEqual([]);
  });

  it('lists the newest runs first and reads no further than it shows', async () => {
    const send = vi.spyOn(dynamo.doc, 'send');
    try {
      const newest = await store.runs.listRuns('churn', 3);
      expect(newest.map((r) => r.runId)).toEqual(later.slice(-3).reverse());
      expect(send).toHaveBeenCalledTimes(1);
      expect(send.mock.calls[0]?.[0]).toMatchObject({ input: { Limit: 3 } });
    } finally {
      send.mockRestore();
    }
    expect(await store.runs.listRuns('churn', 5_000)).toHaveLength(1_203);
  });

  it('filters by status and start time in the query: old matches are found, newer non-matches not read past the limit', async () => {
    expect((await store.runs.listRuns('churn', 50, { status: 'failed' })).map((r) => r.runId)).toEqual([
      old0,
    ]);
    expect(await store.runs.listRuns('churn', 50, { status: 'registered' })).toEqual([]);
    // Since the start of the 1,001st run: the key range holds only the 203 from there on.
    const since = new Date(Date.UTC(2026, 0, 1) + 1_000 * 1000);
    const recent = await store.runs.listRuns('churn', 5_000, { since });
    expect(recent).toHaveLength(203);
    expect(recent.at(-1)?.runId).toBe(runIds(1_000, 1)[0]);
    expect(await store.runs.listRuns('churn', 5_000, { since, status: 'stopped' })).toEqual([]);
  });
});
