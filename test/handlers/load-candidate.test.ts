import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredStateSchema } from '../../lambdas/contracts/pipeline.js';
import {
  type HandlerWorld,
  handlerWorld,
  lineageFor,
  METRICS,
  MODEL,
  pipelineState,
  putRun,
  REQUESTOR,
  runInfo,
} from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;

describe('load-candidate handler (LoadCandidate state, DynamoDB Local)', () => {
  let w: HandlerWorld;
  let handler: Handler;
  /** The execution input of `mlcycle models promote churn <version> --stage production`. */
  const promotion = (version: string) =>
    pipelineState({ stage: 'production', promote: version, reason: 'staging looked good' });

  beforeAll(async () => {
    w = await handlerWorld('loadCandidate');
    ({ handler } = (await import('../../lambdas/handlers/load-candidate.js')) as { handler: Handler });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('rebuilds the state Gate, Approve and Deploy expect from the registry record (its result is the state)', async () => {
    const run = runInfo(w.bucket, 'r1');
    await putRun(w, run);
    const v = await w.registry.versions.registerVersion({
      model: MODEL,
      bump: 'minor',
      metrics: METRICS,
      lineage: lineageFor(w.bucket, 'r1', {
        parentVersion: '0.9.0',
        hyperparameters: { epochs: 6, seed: 7 },
      }),
    });
    await w.registry.stages.promote({
      model: MODEL,
      stage: 'staging',
      version: v.version,
      actor: REQUESTOR,
      reason: 'x',
      action: 'promote',
    });
    const input = promotion(v.version);
    const before = await w.scan();

    const out = await handler({ ...input, somethingElse: 'dropped' });

    const state = registeredStateSchema.parse(out);
    expect(state).toEqual({
      ...input,
      run: {
        runId: 'r1',
        datasetUri: run.datasetUri,
        outputUri: `s3://${w.bucket}/runs/churn/r1/`,
        hyperparametersJson: expect.any(String),
        excludeCsv: 'player_id',
        holdoutFraction: '0.2',
        startedAt: run.startedAt,
      },
      evaluation: {
        metrics: METRICS,
        reportedMetrics: {},
        holdoutRows: 0,
        artifact: { uri: `s3://${w.bucket}/runs/churn/r1/model.json`, sha256: 'b'.repeat(64) },
        modelCardUri: `s3://${w.bucket}/runs/churn/r1/model-card.json`,
        evaluationUri: `s3://${w.bucket}/runs/churn/r1/evaluation.json`,
      },
      registration: { version: v.version, parentVersion: '0.9.0' },
    });
    // DynamoDB keeps no key order in maps: compare the JSON's content, which the trainer parses.
    expect(JSON.parse(state.run.hyperparametersJson)).toEqual({ epochs: 6, seed: 7 });
    expect(out).not.toHaveProperty('somethingElse');
    // The Approve state reads $.requestedBy, $.reason, $.approvalWait, $.registration.version, $.run.runId.
    expect(state.approvalWait).toEqual(input.approvalWait);
    expect(await w.scan()).toBe(before);
  });

  it('a version registered outside a pipeline (no run) starts at its creation time, model card beside the artifact', async () => {
    const v = await w.registry.versions.registerVersion({
      model: MODEL,
      bump: 'minor',
      metrics: { auc: 0.8 } as typeof METRICS,
      lineage: lineageFor(w.bucket, '', {
        artifactUri: `s3://${w.bucket}/external/v7/model.json`,
        modelCardUri: undefined,
      }),
    });
    const state = (await handler(promotion(v.version))) as Record<string, Record<string, unknown>>;
    expect(state.run).toMatchObject({
      runId: '',
      outputUri: `s3://${w.bucket}/external/v7/`,
      startedAt: v.createdAt,
    });
    expect(state.evaluation).toMatchObject({ modelCardUri: `s3://${w.bucket}/external/v7/model-card.json` });
  });

  it('refuses versions that cannot be promoted, naming their status (rejected, failed, archived)', async () => {
    for (const [status, via] of [
      ['rejected', []],
      ['failed', []],
      ['archived', ['rejected']],
    ] as const) {
      const v = await w.registry.versions.registerVersion({
        model: MODEL,
        bump: 'patch',
        metrics: METRICS,
        lineage: lineageFor(w.bucket, `r-${status}`),
      });
      for (const step of [...via, status])
        await w.registry.versions.transition(MODEL, v.version, step, 'fixture', 'test');
      await expect(handler(promotion(v.version))).rejects.toMatchObject({
        name: 'ValidationError',
        message: `churn ${v.version} is ${status}; only validating or ready versions can be promoted`,
      });
    }
  });

  it('unknown model or version ⇒ NotFoundError naming it; a version that is not semver ⇒ ValidationError', async () => {
    await expect(handler(promotion('7.7.7'))).rejects.toMatchObject({
      name: 'NotFoundError',
      message: 'model churn has no version 7.7.7',
    });
    await expect(handler({ ...promotion('1.0.0'), model: 'matchmaker' })).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringContaining('unknown model "matchmaker"'),
    });
    await expect(handler(promotion('latest'))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('"latest" is not a semantic version'),
    });
  });

  it('invalid execution input ⇒ ValidationError naming the field', async () => {
    const input = promotion('1.0.0');
    await expect(handler({ ...input, stage: '' })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('stage'),
    });
    await expect(handler({ ...input, approvalWait: { timeoutSeconds: 0 } })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('approvalWait.timeoutSeconds'),
    });
  });
});
