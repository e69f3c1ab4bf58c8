import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../lambdas/adapters/registry/manifest.js';
import type { RunInfo } from '../../lambdas/contracts/pipeline.js';
import type { VersionRecord } from '../../lambdas/domain/registry/types.js';
import { abortRollout } from '../../lambdas/services/rollouts/abort.js';
import {
  approvedState,
  CLIENT_BASE_URL,
  evaluationOf,
  type HandlerWorld,
  handlerWorld,
  lifecycleState,
  passedGate,
  pipelineState,
  putRun,
  registerTrained,
  runInfo,
  train,
  uploadDataset,
} from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;
interface DeployResult {
  version: string;
  previousVersion: string | null;
  redelivered: boolean;
  published: unknown;
  rollout?: { rolloutId: string; status: string; created?: boolean };
}

/**
 * Deploy of a rollout start (`mlcycle rollout start`): after the same approval check, validation
 * and served copy as a promotion, it starts the rollout instead of moving the stage, once per
 * deployment however often it is delivered; a later promotion of the canary ends it promoted.
 */
describe('deploy handler with a rollout (DynamoDB Local + s3rver)', () => {
  let w: HandlerWorld;
  let handler: Handler;
  const deploy = async (event: unknown) => (await handler(event)) as DeployResult;
  const manifest = () => readManifest(w.objects, w.bucket, 'churn', 'staging');

  async function candidate(runId: string) {
    const run = runInfo(w.bucket, runId);
    await putRun(w, run);
    const summary = await train(w, run);
    return { run, summary, version: await registerTrained(w, run, summary) };
  }
  async function promotionState(
    c: { run: RunInfo; summary: Awaited<ReturnType<typeof train>>; version: VersionRecord },
    promotionId: string,
    rollout: { percent: number } | null,
  ) {
    const state = await approvedState(
      w,
      lifecycleState({
        input: pipelineState({ stage: 'staging', promote: c.version.version, rollout }),
        run: c.run,
        evaluation: evaluationOf(c.run, c.summary),
        registration: { version: c.version.version, parentVersion: null },
        gate: passedGate(),
      }),
      `req-${promotionId}`,
    );
    return { ...state, promotionId };
  }

  beforeAll(async () => {
    w = await handlerWorld('deploy');
    await uploadDataset(w);
    ({ handler } = (await import('../../lambdas/handlers/deploy.js')) as { handler: Handler });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('starts the rollout instead of moving the stage; a redelivery starts nothing twice, even after an abort', async () => {
    const v1 = await candidate('r1');
    const v2 = await candidate('r2');
    await deploy(await promotionState(v1, 'p-1', null));

    const state = await promotionState(v2, 'p-2', { percent: 10 });
    const first = await deploy(state);
    expect(first).toMatchObject({
      version: v2.version.version,
      previousVersion: v1.version.version,
      redelivered: false,
    });
    expect(first.rollout).toMatchObject({ status: 'active', created: true });
    expect((await w.registry.stages.getStage('churn', 'staging'))?.version).toBe(v1.version.version);
    const m = await manifest();
    expect(m?.version).toBe(v1.version.version);
    expect(m?.rollout?.variants.map((v) => [v.version, v.weight])).toEqual([
      [v2.version.version, 1000],
      [v1.version.version, 9000],
    ]);
    expect(m?.rollout?.variants[0]?.download.url.startsWith(CLIENT_BASE_URL)).toBe(true);

    const again = await deploy(state);
    expect(again).toMatchObject({
      redelivered: true,
      rollout: { rolloutId: first.rollout?.rolloutId, created: false },
    });
    const starts = (await w.registry.stages.history('churn', { stage: 'staging' })).filter(
      (e) => e.evidence.rollout?.event === 'start',
    );
    expect(starts).toHaveLength(1);

    await abortRollout(
      { registry: w.registry, objects: w.objects, bucket: w.bucket, clientBaseUrl: CLIENT_BASE_URL },
      { model: 'churn', stage: 'staging', reason: 'stop', actor: 'a@studio.test' },
    );
    const late = await deploy(state);
    expect(late).toMatchObject({
      redelivered: true,
      published: null,
      rollout: { status: 'aborted', created: false },
    });
    expect(await w.registry.rollouts.active('churn', 'staging')).toBeUndefined();
    expect((await manifest())?.rollout).toBeUndefined();
  });

  it('a promotion of the canary ends the rollout promoted; the manifest serves it alone', async () => {
    const v3 = await candidate('r3');
    const started = await deploy(await promotionState(v3, 'p-3', { percent: 100 }));
    // Blue-green: the control stays listed at weight 0.
    expect((await manifest())?.rollout?.variants.map((v) => v.weight)).toEqual([10_000, 0]);
    const promoted = await deploy(await promotionState(v3, 'p-4', null));
    expect(promoted.rollout).toEqual({ rolloutId: started.rollout?.rolloutId, status: 'promoted' });
    const m = await manifest();
    expect(m?.version).toBe(v3.version.version);
    expect(m?.rollout).toBeUndefined();
    expect((await w.registry.rollouts.get('churn', started.rollout?.rolloutId ?? ''))?.ended?.kind).toBe(
      'promoted',
    );
  });
});
