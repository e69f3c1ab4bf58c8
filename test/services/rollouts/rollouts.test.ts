import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mlcycleAssign } from '../../../clients/typescript/mlcycle-assign.js';
import { parseConfig } from '../../../lambdas/adapters/config-file.js';
import { readManifest } from '../../../lambdas/adapters/registry/manifest.js';
import { Registry } from '../../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { clientManifestSchema } from '../../../lambdas/contracts/manifest.js';
import type { Lineage } from '../../../lambdas/domain/registry/types.js';
import { rollback } from '../../../lambdas/services/registry/rollback.js';
import { abortRollout, abortRolloutAs, ROLLOUT_GUARD } from '../../../lambdas/services/rollouts/abort.js';
import { rampRollout } from '../../../lambdas/services/rollouts/ramp.js';
import { startRollout } from '../../../lambdas/services/rollouts/start.js';
import { rolloutStatus } from '../../../lambdas/services/rollouts/status.js';
import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../../support/emulators.js';

const sha = (bytes: string) => createHash('sha256').update(bytes).digest('hex');
const LEAD = 'lead@studio.test';
const APPROVER = 'other@studio.test';
const OPS = 'ops@studio.test';
const STRANGER = 'mallory@studio.test';

describe('rollout services on DynamoDB Local and s3rver', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  let registry: Registry;
  let objects: S3Objects;
  let bucket: string;

  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
    objects = new S3Objects(s3.local.client);
  });
  afterAll(async () => {
    await Promise.allSettled([dynamo?.stop(), s3?.stop()]);
  });
  beforeEach(async () => {
    const [table, b] = await Promise.all([dynamo.newTable(), s3.newBucket()]);
    bucket = b;
    registry = new Registry(dynamo.doc, table);
  });

  async function version(runId: string): Promise<string> {
    const body = `model weights of ${runId}`;
    const key = `runs/churn/${runId}/model.json`;
    await objects.put({ bucket, key }, body, 'application/json');
    const lineage: Lineage = {
      parentVersion: null,
      datasetUri: `s3://${bucket}/datasets/churn/d.csv`,
      datasetSha256: 'a'.repeat(64),
      codeVersion: 'abc',
      runId,
      hyperparameters: {},
      framework: 'mlcycle-logreg@1.0.0',
      artifactUri: `s3://${bucket}/${key}`,
      artifactSha256: sha(body),
      author: 'dev@studio.test',
    };
    return (await registry.versions.registerVersion({ model: 'churn', bump: 'minor', lineage, metrics: {} }))
      .version;
  }
  const promote = (v: string) =>
    registry.stages.promote({
      model: 'churn',
      stage: 'production',
      version: v,
      actor: 'dev@studio.test',
      reason: `ship ${v}`,
      action: 'promote',
    });

  // Approvers lead@ and other@; rollbackBy lead@ and ops@ (other@ may ramp, not abort).
  const config = parseConfig(
    {
      models: {
        churn: { target: 'churned', rollout: { policy: { minSamples: 50 } } },
      },
      environments: {
        staging: { approvers: [LEAD] },
        production: { approvers: [LEAD, APPROVER], quorum: 1, rollbackBy: [LEAD, OPS] },
      },
    },
    'rollout test config',
  );
  const deps = () => ({ registry, objects, bucket, config, clientBaseUrl: 'http://127.0.0.1:9/' });
  const manifest = () => readManifest(objects, bucket, 'churn', 'production');

  async function running(percent = 10) {
    const v1 = await version('r1');
    const v2 = await version('r2');
    await promote(v1);
    const started = await startRollout(deps(), {
      model: 'churn',
      stage: 'production',
      version: v2,
      percent,
      actor: 'dev@studio.test',
      reason: 'try v2',
      approval: { requestId: 'req-1', approvedBy: [LEAD] },
      deploymentKey: 'promotion:p1',
    });
    return { v1, v2, started };
  }

  it('a start publishes the rollout block beside the control; players get the variants the weights say', async () => {
    const { v1, v2, started } = await running(10);
    expect(started.created).toBe(true);
    const m = clientManifestSchema.parse(await manifest());
    // Old clients keep the control.
    expect(m.version).toBe(v1);
    expect(m.rollout?.rolloutId).toBe(started.record.rolloutId);
    expect(m.rollout?.variants.map((v) => [v.name, v.version, v.weight])).toEqual([
      ['canary', v2, 1000],
      ['control', v1, 9000],
    ]);
    expect(m.rollout?.variants[0]?.download.sha256).toBe(sha('model weights of r2'));
    expect(JSON.stringify(m)).not.toMatch(/@|s3:\/\//);
    const players = Array.from({ length: 5000 }, (_, i) => `player-${i}`);
    const canary = players.filter(
      (p) => mlcycleAssign(m.rollout?.rolloutId ?? '', p, m.rollout?.variants ?? []).version === v2,
    );
    expect(canary.length / players.length).toBeGreaterThan(0.08);
    expect(canary.length / players.length).toBeLessThan(0.12);
  });

  it('a redelivered start (same deployment key) starts nothing new; a second rollout is refused', async () => {
    const { v2, started } = await running();
    const again = await startRollout(deps(), {
      model: 'churn',
      stage: 'production',
      version: v2,
      percent: 10,
      actor: 'dev@studio.test',
      reason: 'try v2',
      approval: null,
      deploymentKey: 'promotion:p1',
    });
    expect(again.created).toBe(false);
    expect(again.record.rolloutId).toBe(started.record.rolloutId);
    const v3 = await version('r3');
    await expect(
      startRollout(deps(), {
        model: 'churn',
        stage: 'production',
        version: v3,
        percent: 5,
        actor: 'dev@studio.test',
        reason: 'another',
        approval: null,
        deploymentKey: 'promotion:p2',
      }),
    ).rejects.toThrow(/is still active; promote or abort it first/);
    expect(await registry.rollouts.list('churn')).toHaveLength(1);
  });

  it('refuses a start on a stage that serves nothing, or already serves the version', async () => {
    const v1 = await version('r1');
    const start = (v: string) =>
      startRollout(deps(), {
        model: 'churn',
        stage: 'production',
        version: v,
        percent: 5,
        actor: 'dev@studio.test',
        reason: '',
        approval: null,
      });
    await expect(start(v1)).rejects.toThrow(/serves nothing yet.*promote it instead/);
    await promote(v1);
    await expect(start(v1)).rejects.toThrow(/already serves 1\.0\.0: there is nothing to roll out/);
  });

  it('ramp: someone who is neither approver nor rollbackBy is refused (403) and nothing changes', async () => {
    await running();
    const before = await manifest();
    await expect(
      rampRollout(deps(), {
        model: 'churn',
        stage: 'production',
        percent: 50,
        reason: 'me',
        actor: STRANGER,
      }),
    ).rejects.toMatchObject({
      status: 403,
      message: expect.stringMatching(/mallory@studio\.test may not ramp/),
    });
    expect(await manifest()).toEqual(before);
    expect((await registry.rollouts.active('churn', 'production'))?.revision).toBe(0);
  });

  it('ramp is monotone: growing is allowed (ops@ via rollbackBy), shrinking is refused with checkRamp’s reason', async () => {
    const { v2 } = await running(10);
    const out = await rampRollout(deps(), {
      model: 'churn',
      stage: 'production',
      percent: 25,
      reason: 'fine so far',
      actor: OPS,
    });
    expect(out.rollout.steps.map((s) => s.variants[0]?.weight)).toEqual([1000, 2500]);
    expect(out.published.manifest.rollout?.variants[0]).toMatchObject({ version: v2, weight: 2500 });
    await expect(
      rampRollout(deps(), { model: 'churn', stage: 'production', percent: 5, reason: 'back', actor: LEAD }),
    ).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/refused: variant canary would move.*start a new rollout/),
    });
    await expect(
      rampRollout(deps(), { model: 'churn', stage: 'production', percent: 10.555, reason: '', actor: LEAD }),
    ).rejects.toThrow(/more than 2 decimals/);
    // Blue-green: 100 % keeps the control listed at weight 0, warm.
    const full = await rampRollout(deps(), {
      model: 'churn',
      stage: 'production',
      percent: 100,
      reason: 'all in',
      actor: APPROVER,
    });
    expect(full.published.manifest.rollout?.variants.map((v) => v.weight)).toEqual([10_000, 0]);
  });

  it('abort: an approver outside rollbackBy is refused; rollbackBy aborts, the manifest goes back to the control', async () => {
    const { v1 } = await running();
    await expect(
      abortRolloutAs(deps(), { model: 'churn', stage: 'production', reason: 'no', actor: APPROVER }),
    ).rejects.toMatchObject({ status: 403 });
    expect(await registry.rollouts.active('churn', 'production')).toBeDefined();
    const out = await abortRolloutAs(deps(), {
      model: 'churn',
      stage: 'production',
      reason: 'crash reports',
      actor: LEAD,
    });
    expect(out.rollout).toMatchObject({ status: 'aborted', ended: { kind: 'abort', actor: LEAD } });
    const m = await manifest();
    expect(m?.version).toBe(v1);
    expect(m?.rollout).toBeUndefined();
    const events = (await registry.stages.history('churn', { stage: 'production' }))
      .filter((e) => e.action === 'rollout')
      .map((e) => e.evidence.rollout?.event);
    expect(events).toEqual(['abort', 'start']);
  });

  it('the guard’s automatic abort records its decision in the ledger', async () => {
    await running();
    const out = await abortRollout(deps(), {
      model: 'churn',
      stage: 'production',
      reason: 'guardrail latency-p95 breached',
      actor: ROLLOUT_GUARD,
      kind: 'auto-abort',
      decision: { action: 'rollback' },
      expectedRevision: 0,
    });
    expect(out.rollout.ended?.kind).toBe('auto-abort');
    const entry = (await registry.stages.history('churn')).find(
      (e) => e.evidence.rollout?.event === 'auto-abort',
    );
    expect(entry).toMatchObject({
      actor: ROLLOUT_GUARD,
      evidence: { rollout: { decision: { action: 'rollback' } } },
    });
  });

  it('status: the record and decide() on its evidence under the deployed policy', async () => {
    const { started } = await running(10);
    const status = await rolloutStatus(deps(), 'churn', 'production');
    expect(status.rollout.rolloutId).toBe(started.record.rolloutId);
    expect(status.percent).toBe(10);
    expect(status.decision.action).toBe('continue');
    expect(status.decision.reasons[0]?.code).toBe('too-few-samples');
    await expect(rolloutStatus(deps(), 'churn', 'staging')).rejects.toThrow(/staging/);
  });

  it('a rollback during a rollout ends it as superseded; the manifest loses its rollout block', async () => {
    const [v1, v2, v3] = [await version('r1'), await version('r2'), await version('r3')];
    await promote(v1);
    await promote(v2);
    const { record } = await startRollout(deps(), {
      model: 'churn',
      stage: 'production',
      version: v3,
      percent: 5,
      actor: 'dev@studio.test',
      reason: 'v3',
      approval: null,
    });
    expect(record.controlVersion).toBe(v2);
    await rollback(deps(), { model: 'churn', stage: 'production', reason: 'bad', actor: LEAD, to: v1 });
    expect((await registry.rollouts.get('churn', record.rolloutId))?.ended).toMatchObject({
      kind: 'superseded',
      actor: LEAD,
    });
    expect(await registry.rollouts.active('churn', 'production')).toBeUndefined();
    const m = await manifest();
    expect(m?.version).toBe(v1);
    expect(m?.rollout).toBeUndefined();
  });
});
