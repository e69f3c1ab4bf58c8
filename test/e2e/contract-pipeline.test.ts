import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveThroughLink, readOutbox } from '../../bin/cli/demo-approver.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../local/data/churn.js';
import { ltvCsv } from '../../local/data/ltv.js';
import { startAs, startTestStack, type TestStack, testConfig } from '../support/local-stack.js';
import { nextApprovalLink } from '../support/outbox.js';

/**
 * Runs of contract trainers through the one ASL on the embedded default: PrepareRun splits,
 * Train runs the configured trainer, Predict its predict entry on the holdout, Evaluate
 * measures, Gate decides on what was measured.
 */
const fixture = (name: string, task = 'binary', hyperparameters: Record<string, unknown> = {}) => ({
  task,
  target: 'churned',
  exclude: ['player_id'],
  training: { image: `test/fixtures/trainers/${name}`, hyperparameters, resources: { gpus: 0 } },
  evaluation: { splitKey: 'player_id', seed: 5 },
});

describe('contract trainers through the lifecycle (local engine)', () => {
  let t: TestStack;
  let store: Registry;
  const REQUESTOR = 'requestor@studio.test';

  beforeAll(async () => {
    const base = testConfig();
    t = await startTestStack(
      testConfig({
        models: {
          ...base.models,
          liar: fixture('liar'),
          crasher: fixture('crasher'),
          'no-artifact': fixture('no-artifact'),
          'bad-predict': fixture('bad-predict', 'binary', { failure: 'not_json' }),
          // Trains for a minute unless stopped.
          slow: fixture('resumable', 'binary', { epochs: 120, epoch_seconds: 0.5 }),
          // No gates: its random scores reach Deploy, whose smoke test must catch them.
          unstable: { ...fixture('bad-predict', 'binary', { failure: 'unstable' }), gates: { staging: [] } },
          ltv: {
            task: 'regression',
            target: 'ltv_90d',
            exclude: ['player_id'],
            training: {
              image: 'containers/sklearn-ltv',
              hyperparameters: { max_iter: 150, seed: 42 },
              resources: { gpus: 0 },
            },
            evaluation: { splitKey: 'player_id', validationFraction: 0.1, seed: 42 },
            gates: {
              staging: [
                { metric: 'r2', operator: '>=', threshold: 0.3 },
                { metric: 'rmse', operator: '<=', threshold: 80 },
              ],
              production: [{ metric: 'r2', operator: '>=', threshold: 0.3 }],
            },
          },
        },
      }),
    );
    store = new Registry(createDocumentClient(t.stack.dynamo.client), t.stack.endpoints.tableName);
    const objects = new S3Objects(t.stack.s3.client);
    const bucket = t.stack.endpoints.bucket;
    const churn = churnCsv({ rows: 800, seed: 21 });
    for (const model of ['liar', 'crasher', 'no-artifact', 'bad-predict', 'unstable', 'slow']) {
      await objects.put({ bucket, key: `datasets/${model}/data.csv` }, churn, 'text/csv');
    }
    await objects.put({ bucket, key: 'datasets/ltv/data.csv' }, ltvCsv({ rows: 2000, seed: 42 }), 'text/csv');
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  async function run(model: string, approve = false) {
    const before = readOutbox(t.stack.endpoints.outboxDir).length;
    const executionArn = await startAs(t.stack, REQUESTOR, { model, stage: 'staging', reason: 'test' });
    if (approve) {
      const link = await nextApprovalLink(t.stack.endpoints.outboxDir, before, {
        why: () => JSON.stringify(t.stack.engine.describe(executionArn).error),
      });
      await approveThroughLink(link, 'approve', 'measured r2 is fine', []);
    }
    const result = await t.stack.engine.settled(executionArn);
    const runs = await store.runs.listRuns(model);
    return { result, run: runs[0], versions: await store.versions.listVersions(model) };
  }

  it('(a) a trainer that reports AUC 0.99 but predicts the base rate fails the gate on the measured AUC', async () => {
    const { result, versions } = await run('liar');
    expect(result.error).toBe('mlcycle.GateFailed');
    const version = versions[0];
    expect(version?.status).toBe('rejected');
    // Measured on the holdout by the platform: a constant score has AUC 0.5.
    expect(version?.metrics.auc).toBeCloseTo(0.5, 6);
    // What the trainer claimed is kept beside, never gated on.
    expect(version?.reportedMetrics).toEqual({ auc: 0.99, accuracy: 0.98, f1: 0.97, logLoss: 0.04 });
  }, 120_000);

  it('(b) a trainer that crashes fails the run with its last stderr line as the cause', async () => {
    const { result, run: record, versions } = await run('crasher');
    expect(result.error).toBe('mlcycle.TrainingFailed');
    expect(record?.status).toBe('failed');
    expect(record?.failure?.cause).toContain(
      'crasher: out of memory allocating the embedding table (simulated)',
    );
    // The job's output, linked from the run record (a CloudWatch link on AWS, the log file here).
    expect(readFileSync(record?.failure?.logs ?? '', 'utf8')).toContain('out of memory');
    expect(versions).toHaveLength(0);
  }, 120_000);

  it('(c) a trainer that exits 0 without model/ fails the run as "no artifact"', async () => {
    const { result, run: record, versions } = await run('no-artifact');
    expect(result.error).toBe('mlcycle.TrainingFailed');
    expect(record?.failure?.cause).toContain(
      'no artifact: the train entry exited 0 but wrote no model/ folder',
    );
    expect(versions).toHaveLength(0);
  }, 120_000);

  it('(d) a predict entry that writes no JSON fails evaluation, naming the line', async () => {
    const { result, run: record, versions } = await run('bad-predict');
    expect(result.error).toBe('mlcycle.EvaluationFailed');
    expect(record?.status).toBe('failed');
    expect(record?.failure?.cause).toMatch(/prediction line 1 is not JSON: "NaN\?"/);
    expect(versions).toHaveLength(0);
  }, 120_000);

  it('(e) the scikit-learn regression trainer passes its own r2/rmse gates and deploys', async () => {
    const { result, versions } = await run('ltv', true);
    expect(result.error ?? '').toBe('');
    expect(result.status).toBe('SUCCEEDED');
    const version = versions[0];
    expect(version?.status).toBe('ready');
    expect(version?.metrics.r2).toBeGreaterThan(0.3);
    expect(version?.metrics.rmse).toBeGreaterThan(0);
    expect(version?.metrics.auc).toBeUndefined();
    expect(version?.reportedMetrics).toHaveProperty('validationR2');
    expect(version?.lineage.artifactUri).toMatch(/\/runs\/ltv\/[^/]+\/model\.tar\.gz$/);
    expect(version?.lineage.framework).toMatch(/^scikit-learn/);
    // What code built the job is the platform's to say (the trainer's card does not say it).
    expect(version?.lineage.codeVersion).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
    const [record] = await store.runs.listRuns('ltv');
    expect(record?.logs).toMatch(/mlcycle-ltv-.*\.log$/);
    // Deploy ran the version's predict entry on the head of its holdout (SmokePredict) and its
    // answers agreed with the ones the evaluation measured.
    const [entry] = await store.stages.history('ltv', { stage: 'staging' });
    const evidence = entry?.evidence as { validation?: Record<string, unknown> } | undefined;
    expect(evidence?.validation).toMatchObject({
      agreement: 'agreed',
      smokeSample: {
        source: 'holdout',
        rows: 32,
        uri: expect.stringMatching(/input\/holdout-features\.csv$/),
      },
    });
    // The deploy is told once on the alert channel, with the model's status and manifest links.
    const subject = `[mlcycle] ltv ${version?.version} deployed to staging`;
    const notices = async () => {
      for (const until = Date.now() + 15_000; Date.now() < until; ) {
        const found = readOutbox(t.stack.endpoints.outboxDir).filter((m) => m.subject === subject);
        if (found.length) return found;
        await new Promise((r) => setTimeout(r, 200));
      }
      return [];
    };
    const [notice, ...more] = await notices();
    expect(more).toEqual([]);
    expect(notice?.text).toContain(`ledger entry #${entry?.seq}`);
    expect(notice?.text).toMatch(/Status: http:\/\/\S+\/status\/ltv/);
    expect(notice?.text).toMatch(/Client manifest: http:\/\/\S+\/models\/ltv\/staging/);
  }, 180_000);

  it('(g) stopping an execution while it trains terminates its Batch job (a task-token wait does not)', async () => {
    const before = readOutbox(t.stack.endpoints.outboxDir).length;
    const executionArn = await startAs(t.stack, REQUESTOR, {
      model: 'slow',
      stage: 'staging',
      reason: 'test',
    });
    const log = () => {
      const dir = join(dirname(t.stack.endpoints.outboxDir), 'logs');
      const file = (existsSync(dir) ? readdirSync(dir) : []).find((f) => f.startsWith('mlcycle-slow-'));
      return file ? readFileSync(join(dir, file), 'utf8') : '';
    };
    const deadline = Date.now() + 60_000;
    while (!log().includes('epoch') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(log()).toContain('epoch');
    t.stack.engine.stopExecution(executionArn);
    const ended = await t.stack.engine.settled(executionArn);
    expect(ended.status).toBe('ABORTED');
    // The execution-ended handler terminated the job: its process ends long before its 120 epochs.
    const stopped = Date.now() + 30_000;
    while (!/exit|signal|killed/.test(log().split('\n').slice(-3).join(' ')) && Date.now() < stopped) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(log().split('\n').slice(-3).join(' ')).toMatch(/exit|signal|killed/);
    expect(log()).not.toMatch(/epoch\D+1[01]\d\b/);
    const alert = readOutbox(t.stack.endpoints.outboxDir)
      .slice(before)
      .find((m) => m.text.includes(executionArn));
    expect(alert?.text).toMatch(/Batch jobs it left running were terminated: local-/);
  }, 120_000);

  it('(f) a predict entry whose answers change after evaluation is refused at Deploy, naming the row', async () => {
    const { result, run: record, versions } = await run('unstable', true);
    expect(result.error).toBe('mlcycle.DeployFailed');
    expect(record?.failure?.cause).toMatch(
      /no longer answers as it did when evaluated .* row \d+: the predict entry now answers [\d.]+, the evaluation measured [\d.]+/,
    );
    expect(versions[0]?.status).not.toBe('ready');
    expect(await store.stages.getStage('unstable', 'staging')).toBeUndefined();
  }, 180_000);
});
