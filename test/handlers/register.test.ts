import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunInfo, registrationSchema } from '../../lambdas/contracts/pipeline.js';
import type { TrainingSummary } from '../../lambdas/domain/ml/training-summary.js';
import {
  evaluationOf,
  type HandlerWorld,
  handlerWorld,
  lifecycleState,
  METRICS,
  MODEL,
  pipelineState,
  putRun,
  REQUESTOR,
  runInfo,
  train,
  uploadDataset,
} from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;

describe('register handler (Register state, DynamoDB Local + s3rver)', () => {
  let w: HandlerWorld;
  let handler: Handler;
  let run: RunInfo;
  let summary: TrainingSummary;

  /** The Register state's input: execution input, $.run, $.train, $.evaluation. */
  const stateFor = (r: RunInfo, s: TrainingSummary, overrides: Parameters<typeof pipelineState>[0] = {}) =>
    lifecycleState({ input: pipelineState(overrides), run: r, evaluation: evaluationOf(r, s) });
  /** A fresh run record sharing the trained outputs (as a retried pipeline would see them). */
  const freshRun = async (runId: string) => {
    const r = { ...runInfo(w.bucket, runId), outputUri: run.outputUri };
    await putRun(w, r);
    return r;
  };

  beforeAll(async () => {
    w = await handlerWorld('register');
    await uploadDataset(w);
    run = runInfo(w.bucket, 'r1');
    await putRun(w, run);
    summary = await train(w, run);
    ({ handler } = (await import('../../lambdas/handlers/register.js')) as { handler: Handler });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it("records the model's first version (1.0.0, validating) with metrics and full lineage", async () => {
    const out = registrationSchema.parse(await handler(stateFor(run, summary)));
    expect(out).toEqual({ version: '1.0.0', parentVersion: null });

    const record = await w.registry.versions.getVersion(MODEL, '1.0.0');
    expect(record).toMatchObject({
      model: MODEL,
      version: '1.0.0',
      status: 'validating',
      metrics: METRICS,
      lineage: {
        parentVersion: null,
        datasetUri: run.datasetUri,
        datasetSha256: summary.datasetSha256,
        codeVersion: 'c0ffee1',
        runId: 'r1',
        hyperparameters: summary.hyperparameters,
        framework: `${summary.framework}@${summary.frameworkVersion}`,
        artifactUri: summary.artifactUri,
        artifactSha256: summary.sha256,
        author: REQUESTOR,
        modelCardUri: `${run.outputUri}model-card.json`,
      },
    });
    expect(record?.statusHistory).toEqual([
      { from: null, to: 'validating', at: record?.createdAt, reason: 'registered', actor: REQUESTOR },
    ]);
    expect(await w.registry.runs.getRun(MODEL, 'r1')).toMatchObject({
      status: 'registered',
      version: '1.0.0',
      metrics: METRICS,
    });
  });

  it('bumps as asked, and names as parent the version serving the target stage (not the newest)', async () => {
    await w.registry.stages.promote({
      model: MODEL,
      stage: 'staging',
      version: '1.0.0',
      actor: REQUESTOR,
      reason: 'fixture',
      action: 'promote',
    });
    const minor = registrationSchema.parse(await handler(stateFor(await freshRun('r2'), summary)));
    expect(minor).toEqual({ version: '1.1.0', parentVersion: '1.0.0' });

    const major = registrationSchema.parse(
      await handler(stateFor(await freshRun('r3'), summary, { bump: 'major', stage: 'production' })),
    );
    expect(major).toEqual({ version: '2.0.0', parentVersion: null });
    expect((await w.registry.versions.getVersion(MODEL, '2.0.0'))?.lineage.parentVersion).toBeNull();
  });

  it('registers an explicit version, and refuses an explicit duplicate with ConflictError, writing nothing', async () => {
    const first = registrationSchema.parse(
      await handler(stateFor(await freshRun('r4'), summary, { version: '3.1.4' })),
    );
    expect(first.version).toBe('3.1.4');

    const dup = await freshRun('r5');
    const before = await w.scan();
    await expect(handler(stateFor(dup, summary, { version: '3.1.4' }))).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining('churn 3.1.4 already exists'),
    });
    expect(await w.scan()).toBe(before);
    expect((await w.registry.versions.getVersion(MODEL, '3.1.4'))?.lineage.runId).toBe('r4');
    expect((await w.registry.runs.getRun(MODEL, 'r5'))?.status).toBe('training');
  });

  it('refuses a run cancelled meanwhile (a sweep trial chosen as it was cancelled), registering nothing', async () => {
    const r = await freshRun('r-cancelled');
    await w.registry.runs.cancelRunIfActive(MODEL, 'r-cancelled', {
      by: 'lead@studio.test',
      at: '2030-01-01T00:00:00.000Z',
      reason: 'wrong l2',
    });
    const before = await w.scan();
    await expect(handler(stateFor(r, summary))).rejects.toMatchObject({
      name: 'ConflictError',
      message: 'run r-cancelled of churn was cancelled by lead@studio.test: wrong l2; nothing is registered',
    });
    expect(await w.scan()).toBe(before);
  });

  it('refuses an explicit version that is not major.minor.patch, naming it', async () => {
    const r = await freshRun('r6');
    const before = await w.scan();
    await expect(handler(stateFor(r, summary, { version: '3.2' }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('"3.2" is not a semantic version'),
    });
    expect(await w.scan()).toBe(before);
  });

  it('fails with NotFoundError naming the missing training summary, writing nothing', async () => {
    const r = runInfo(w.bucket, 'never-trained');
    await putRun(w, r);
    const before = await w.scan();
    await expect(handler(stateFor(r, summary))).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringContaining('runs/churn/never-trained/training-summary.json does not exist'),
    });
    expect(await w.scan()).toBe(before);
  });

  it('invalid state ⇒ ValidationError naming the field (a missing $.evaluation, a missing metric)', async () => {
    const before = await w.scan();
    const { evaluation: _e, ...noEvaluation } = stateFor(run, summary);
    await expect(handler(noEvaluation)).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('Register input: evaluation'),
    });
    const state = stateFor(run, summary);
    const { auc: _a, ...noAuc } = METRICS;
    await expect(
      handler({ ...state, evaluation: { ...state.evaluation, metrics: noAuc } }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('evaluation.metrics.auc'),
    });
    await expect(handler({ ...state, bump: 'huge' })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('bump'),
    });
    expect(await w.scan()).toBe(before);
  });
});
