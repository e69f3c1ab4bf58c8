import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveThroughLink, readOutbox } from '../../bin/cli/demo-approver.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import type { SweepSpecInput } from '../../lambdas/contracts/sweep.js';
import { churnCsv } from '../../local/data/churn.js';
import { attachTrainers } from '../../local/trainers/config-trainers.js';
import { startAs, startTestStack, type TestStack, testConfig } from '../support/local-stack.js';
import { nextApprovalLink } from '../support/outbox.js';

/**
 * Sweeps on the embedded default: the lifecycle ASL's Trials Map runs each trial as a run
 * (PrepareRun → Train → CheckTrial → Predict → Evaluate) with the reference trainer, at most
 * `concurrency` at once; PickBest sends the best on to Register → Gate → Approve → Deploy.
 */
describe('sweeps on the embedded default', () => {
  let t: TestStack;
  let store: Registry;
  const REQUESTOR = 'requestor@studio.test';
  const dataset = (name: string) => `s3://${t.stack.endpoints.bucket}/datasets/churn/${name}`;

  beforeAll(async () => {
    // The deployed config carries the trainer's declared hyperparameters, as `mlcycle up` writes it.
    t = await startTestStack(attachTrainers(testConfig()));
    store = new Registry(createDocumentClient(t.stack.dynamo.client), t.stack.endpoints.tableName);
    const objects = new S3Objects(t.stack.s3.client);
    const bucket = t.stack.endpoints.bucket;
    await objects.put(
      { bucket, key: 'datasets/churn/churn.csv' },
      churnCsv({ rows: 2000, seed: 11 }),
      'text/csv',
    );
    await objects.put(
      { bucket, key: 'datasets/churn/bad-target.csv' },
      `player_id,level,churned\n${Array.from({ length: 40 }, (_, i) => `${i},${i % 7},maybe`).join('\n')}\n`,
      'text/csv',
    );
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function sweep(sweepSpec: SweepSpecInput, datasetName: string, approve: boolean) {
    const before = readOutbox(t.stack.endpoints.outboxDir).length;
    const started = Date.now();
    let approvalPage = '';
    const executionArn = await startAs(t.stack, REQUESTOR, {
      model: 'churn',
      stage: 'staging',
      dataset: dataset(datasetName),
      reason: 'sweep test',
      sweep: sweepSpec,
    });
    if (approve) {
      const link = await nextApprovalLink(t.stack.endpoints.outboxDir, before, { timeoutMs: 240_000 });
      // What the approver sees before deciding (a GET changes nothing).
      approvalPage = await (await fetch(link)).text();
      await approveThroughLink(link, 'approve', 'best of the sweep', []);
    }
    const result = await t.stack.engine.settled(executionArn);
    const name = executionArn.split(':').pop() as string;
    const runs = (await store.runs.listRuns('churn', 1000)).filter((r) => r.sweep?.id === name);
    return { result, runs, name, approvalPage, wallSeconds: (Date.now() - started) / 1000 };
  }

  it('8 trials, 2 at once, ASHA on trainLoss: the best evaluated trial is registered and deployed, stopped trials say why', async () => {
    const { result, runs, name, approvalPage, wallSeconds } = await sweep(
      {
        parameters: { learningRate: { logUniform: [0.0005, 0.5] } },
        strategy: 'random',
        seed: 14,
        trials: 8,
        concurrency: 2,
        metric: 'auc',
        earlyStopping: { rule: 'asha', minEpochs: 1, reductionFactor: 3, metric: 'trainLoss' },
      },
      'churn.csv',
      true,
    );
    expect(result.error ?? '').toBe('');
    expect(result.status).toBe('SUCCEEDED');
    expect(name).toMatch(/^churn-staging-sweep-/);
    expect(runs).toHaveLength(8);
    expect(runs.map((r) => r.sweep?.trial).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Each trial trained with its own learning rate, and the others as configured.
    for (const r of runs) {
      expect(r.hyperparameters.epochs).toBe(12);
      expect(r.overrides?.learningRate).toBe(r.hyperparameters.learningRate);
    }
    const stopped = runs.filter((r) => r.status === 'stopped');
    expect(stopped.length).toBeGreaterThan(0);
    for (const r of stopped) {
      expect(r.sweep?.stopped).toMatch(
        // Stopped when its training ended, or by the watcher of its progress while it trained.
        /^(stopped while training, after epoch \d+: )?ASHA rung \d+ \(epoch \d+\): trainLoss [\d.]+ is not in the top \d+ of the \d+ trials at that rung \(threshold [\d.]+, min\)$/,
      );
      expect(r.metrics).toBeUndefined();
    }
    const best = runs.filter((r) => r.sweep?.best);
    expect(best).toHaveLength(1);
    const evaluated = runs.filter((r) => r.status === 'evaluated');
    expect(evaluated.length + stopped.length + 1).toBe(8);
    for (const r of evaluated) expect(best[0]?.metrics?.auc ?? 0).toBeGreaterThanOrEqual(r.metrics?.auc ?? 1);
    const version = best[0]?.version;
    expect(version).toBeDefined();
    const record = await store.versions.getVersion('churn', version ?? '');
    expect(record?.lineage.runId).toBe(best[0]?.runId);
    expect(record?.lineage.hyperparameters.learningRate).toBe(best[0]?.hyperparameters.learningRate);
    expect((await store.stages.getStage('churn', 'staging'))?.version).toBe(version);
    // The approval page said how the candidate was chosen: the trials, their metric, why some stopped.
    expect(approvalPage).toContain('How this candidate was chosen');
    expect(approvalPage).toContain(`Best of 8 trial(s) of sweep <code>${name}</code> by auc`);
    expect(approvalPage.match(/<tr[^>]*><td>\d+/g)?.length).toBeGreaterThanOrEqual(8);
    expect(approvalPage).toContain('ASHA rung');
    const training = runs.reduce((s, r) => s + (r.sweep?.trainingSeconds ?? 0), 0);
    console.log(
      `sweep figures: 8 trials, concurrency 2, wall ${wallSeconds.toFixed(1)} s (incl. approval), ` +
        `sum of trial training ${training.toFixed(1)} s, per trial ${(training / 8).toFixed(1)} s`,
    );
  }, 600_000);

  it('every trial fails: the execution ends TrainingFailed naming each trial, nothing registered, serving untouched', async () => {
    const serving = await store.stages.getStage('churn', 'staging');
    const versions = (await store.versions.listVersions('churn')).length;
    const { result, runs } = await sweep(
      {
        parameters: { l2: { grid: [0, 0.01, 0.1] } },
        strategy: 'grid',
        trials: 3,
        concurrency: 2,
        metric: 'auc',
      },
      'bad-target.csv',
      false,
    );
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('mlcycle.TrainingFailed');
    expect(result.cause).toMatch(
      /no trial of sweep churn-staging-sweep-\S+ was evaluated, so nothing is registered: trial 0 failed/,
    );
    expect(runs).toHaveLength(3);
    for (const r of runs) {
      expect(r.status).toBe('failed');
      expect(r.failure?.kind).toBe('trial');
    }
    expect(await store.versions.listVersions('churn')).toHaveLength(versions);
    expect(await store.stages.getStage('churn', 'staging')).toEqual(serving);
  }, 300_000);

  it('a sweep stopped while its trials train: every trial run ends failed (none left training), nothing registered', async () => {
    const versions = (await store.versions.listVersions('churn')).length;
    const executionArn = await startAs(t.stack, REQUESTOR, {
      model: 'churn',
      stage: 'staging',
      dataset: dataset('churn.csv'),
      reason: 'stopped sweep',
      sweep: {
        // Long trials (2,000 epochs), so the stop lands while the first pair trains and no trial's
        // PrepareRun is in flight (one that is records its run after the end: docs/sweeps.md).
        parameters: { l2: { grid: [0, 0.001, 0.01, 0.1] }, epochs: { grid: [2000] } },
        strategy: 'grid',
        trials: 4,
        concurrency: 2,
        metric: 'auc',
      },
    });
    const name = executionArn.split(':').pop() as string;
    const trials = async () => (await store.runs.listRuns('churn', 1000)).filter((r) => r.sweep?.id === name);
    const deadline = Date.now() + 60_000;
    // Both trials of the first pair recorded (their PrepareRun done), while they train: a Lambda
    // already running when an execution stops still finishes, on AWS as here.
    while ((await trials()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    t.stack.engine.stopExecution(executionArn);
    const result = await t.stack.engine.settled(executionArn);
    expect(result.status).toBe('ABORTED');
    const runs = await trials();
    // The pair that trained; the trials queued behind them never start (no run, no split data).
    expect(runs).toHaveLength(2);
    for (const r of runs) expect(['failed', 'stopped']).toContain(r.status);
    expect(await store.versions.listVersions('churn')).toHaveLength(versions);
  }, 120_000);
});
