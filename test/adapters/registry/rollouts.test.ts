import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from '../../../lambdas/adapters/registry/registry.js';
import type { RolloutStartInput } from '../../../lambdas/adapters/registry/rollouts.js';
import type { Lineage } from '../../../lambdas/domain/registry/types.js';
import { canaryWeights } from '../../../lambdas/domain/rollouts/ramp.js';
import { startTestDynamo, type TestDynamo } from '../../support/emulators.js';

const lineage = (runId: string): Lineage => ({
  parentVersion: null,
  datasetUri: 's3://b/datasets/m/d.csv',
  datasetSha256: 'a'.repeat(64),
  codeVersion: 'abc',
  runId,
  hyperparameters: {},
  framework: 'mlcycle-logreg@1.0.0',
  artifactUri: `s3://b/runs/m/${runId}/model.json`,
  artifactSha256: 'b'.repeat(64),
  author: 'dev@studio.test',
});
const metrics = { auc: 0.8 };
const weights = (bp: number) =>
  canaryWeights({ name: 'canary', version: '1.1.0' }, { name: 'control', version: '1.0.0' }, bp);

describe('RolloutStore on DynamoDB Local', () => {
  let dynamo: TestDynamo;
  let registry: Registry;
  let seq: number;
  const start = (over: Partial<RolloutStartInput> = {}): ReturnType<Registry['rollouts']['start']> =>
    registry.rollouts.start({
      model: 'm',
      stage: 'production',
      canaryVersion: '1.1.0',
      controlVersion: '1.0.0',
      ledgerSeq: seq,
      variants: weights(500),
      actor: 'ana@studio.test',
      reason: 'canary',
      approval: { requestId: 'req-1', approvedBy: ['bo@studio.test'] },
      ...over,
    });

  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  beforeEach(async () => {
    registry = new Registry(dynamo.doc, await dynamo.newTable());
    for (const v of ['1.0.0', '1.1.0']) {
      await registry.versions.registerVersion({ model: 'm', version: v, lineage: lineage(v), metrics });
    }
    seq = (
      await registry.stages.promote({
        model: 'm',
        stage: 'production',
        version: '1.0.0',
        actor: 'a',
        reason: 'r',
        action: 'promote',
      })
    ).seq;
  });

  it('starts one rollout per stage: a second start is refused while the first is active, naming it', async () => {
    const { record, created } = await start();
    expect(created).toBe(true);
    expect(record).toMatchObject({ rolloutId: 'm.production.1', status: 'active', revision: 0 });
    expect(await registry.rollouts.active('m', 'production')).toEqual(record);
    await expect(start({ canaryVersion: '1.0.0' })).rejects.toThrow(
      /rollout m\.production\.1 of m production is still active.*abort it before starting another/,
    );
    expect(await registry.rollouts.list('m')).toHaveLength(1);
  });

  it('two concurrent starts: exactly one wins, the loser is a ConflictError', async () => {
    const out = await Promise.allSettled([start(), start({ reason: 'other' })]);
    expect(out.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = out.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect((refused.reason as Error).name).toBe('ConflictError');
    expect(await registry.rollouts.list('m')).toHaveLength(1);
  });

  it('a start with the active rollout’s deployment key returns it and writes nothing (redelivered Deploy)', async () => {
    const first = await start({ deploymentKey: 'exec-1' });
    const again = await start({ deploymentKey: 'exec-1' });
    expect(again).toEqual({ record: first.record, created: false });
    const history = await registry.stages.history('m', { stage: 'production' });
    expect(history.filter((e) => e.action === 'rollout')).toHaveLength(1);
  });

  it('refuses a start when the stage moved since it was read, writing nothing', async () => {
    await registry.stages.promote({
      model: 'm',
      stage: 'production',
      version: '1.1.0',
      actor: 'a',
      reason: 'r',
      action: 'promote',
    });
    await expect(start()).rejects.toThrow(/changed while the rollout of 1\.1\.0 was starting/);
    expect(await registry.rollouts.active('m', 'production')).toBeUndefined();
    expect(await registry.rollouts.list('m')).toEqual([]);
  });

  it('ramps, records evidence once per batch, ends; ids are never reused; the ledger tells each event', async () => {
    const { record } = await start();
    const ramped = await registry.rollouts.ramp('m', 'production', 0, {
      variants: weights(2500),
      at: new Date().toISOString(),
      actor: 'bo@studio.test',
      reason: 'looks fine',
    });
    expect(ramped.steps.map((s) => s.variants[0]?.weight)).toEqual([500, 2500]);
    expect(ramped.revision).toBe(1);

    const evidence = { steps: { '1': { canary: { assigned: 3, means: {}, rates: {}, latency: {} } } } };
    const first = await registry.rollouts.recordEvidence('m', 'production', 1, {
      batchId: 'b1',
      evidence,
      memory: { p: 1 },
      lastDecision: { action: 'continue' },
    });
    expect(first.applied).toBe(true);
    const dup = await registry.rollouts.recordEvidence('m', 'production', 2, {
      batchId: 'b1',
      evidence: { steps: {} },
      memory: null,
      lastDecision: null,
    });
    expect(dup.applied).toBe(false);
    expect((await registry.rollouts.get('m', record.rolloutId))?.evidence).toEqual(evidence);

    const ended = await registry.rollouts.end(
      'm',
      'production',
      2,
      {
        at: new Date().toISOString(),
        actor: 'mlcycle-rollout-guard',
        reason: 'guardrail',
        kind: 'auto-abort',
      },
      { decision: { action: 'rollback' } },
    );
    expect(ended).toMatchObject({ status: 'aborted', revision: 3, ended: { kind: 'auto-abort' } });
    expect(await registry.rollouts.active('m', 'production')).toBeUndefined();
    expect(await registry.rollouts.activeForModel('m')).toEqual([]);

    const next = await start({ reason: 'again' });
    expect(next.record.rolloutId).toBe('m.production.2');
    expect(await registry.rollouts.activeForModel('m')).toEqual([next.record]);

    const events = (await registry.stages.history('m', { stage: 'production' }))
      .filter((e) => e.action === 'rollout')
      .map((e) => `${e.evidence.rollout?.rolloutId}:${e.evidence.rollout?.event}`)
      .reverse();
    expect(events).toEqual([
      'm.production.1:start',
      'm.production.1:ramp',
      'm.production.1:auto-abort',
      'm.production.2:start',
    ]);
    const abort = (await registry.stages.history('m')).find(
      (e) => e.evidence.rollout?.event === 'auto-abort',
    );
    expect(abort?.evidence.rollout?.decision).toEqual({ action: 'rollback' });
    // Rollout entries do not move the stage: what serves is still 1.0.0.
    expect((await registry.stages.inForceAt('m', new Date()))[0]?.toVersion).toBe('1.0.0');
  });

  it('a change from a stale revision is a ConflictError and changes nothing', async () => {
    await start();
    const step = { variants: weights(1000), at: new Date().toISOString(), actor: 'bo' };
    await registry.rollouts.ramp('m', 'production', 0, step);
    await expect(registry.rollouts.ramp('m', 'production', 0, step)).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringMatching(/changed since it was read \(revision 0, now at revision 1\)/),
    });
    const concurrent = await Promise.allSettled([
      registry.rollouts.ramp('m', 'production', 1, { ...step, variants: weights(2000) }),
      registry.rollouts.end('m', 'production', 1, {
        at: step.at,
        actor: 'bo',
        reason: 'stop',
        kind: 'abort',
      }),
    ]);
    expect(concurrent.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const now = await registry.rollouts.get('m', 'm.production.1');
    expect(now?.revision).toBe(2);
  });

  it('a change with no active rollout is a NotFoundError naming the stage', async () => {
    await expect(
      registry.rollouts.end('m', 'production', 0, { at: 'x', actor: 'a', reason: 'r', kind: 'abort' }),
    ).rejects.toThrow(/m production has no active rollout/);
  });

  it('notes the promotion execution started for the canary, under the same revision rule, with no ledger entry', async () => {
    await start();
    const noted = await registry.rollouts.notePromotionRequest('m', 'production', 0, {
      executionName: 'm-production-promote-1-1-0-x',
      at: '2030-01-01T00:00:00.000Z',
    });
    expect(noted).toMatchObject({
      revision: 1,
      promotionRequest: { executionName: 'm-production-promote-1-1-0-x' },
    });
    expect((await registry.rollouts.active('m', 'production'))?.promotionRequest?.executionName).toBe(
      'm-production-promote-1-1-0-x',
    );
    await expect(
      registry.rollouts.notePromotionRequest('m', 'production', 0, { executionName: 'again', at: 'x' }),
    ).rejects.toMatchObject({ name: 'ConflictError' });
    const events = (await registry.stages.history('m')).filter((e) => e.action === 'rollout');
    expect(events).toHaveLength(1);
  });
});
