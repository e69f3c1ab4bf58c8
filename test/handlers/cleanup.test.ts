import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CleanupHistory } from '../../lambdas/adapters/registry/cleanup-history.js';
import { ENV } from '../../lambdas/contracts/env.js';
import type { StageChangeAction } from '../../lambdas/domain/registry/types.js';
import { rollback } from '../../lambdas/services/registry/rollback.js';
import {
  fixtureConfig,
  type HandlerWorld,
  handlerWorld,
  lineageFor,
  METRICS,
  REQUESTOR,
  sha256,
} from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;

/** The EventBridge scheduled event the daily rule (and the local scheduler) delivers. */
const scheduledEvent = {
  version: '0',
  id: '5d3bbd1c-2e0a-4a8e-9b1e-1d2c3b4a5f60',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: '2030-01-02T03:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:000000000000:rule/mlcycle-cleanup'],
  detail: {},
};

/** What EventBridge delivers when a lifecycle execution of `model` succeeded. */
const succeededEvent = (model: string) => ({
  ...scheduledEvent,
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  detail: {
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:mlcycle-lifecycle:${model}-run`,
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:mlcycle-lifecycle',
    name: `${model}-run`,
    status: 'SUCCEEDED',
    input: JSON.stringify({ model, stage: 'production' }),
  },
});

/** The deployed config of this suite: two models, and the archival section under test. */
const configWith = (archival: unknown) =>
  JSON.stringify({
    ...fixtureConfig({
      models: {
        churn: { target: 'churned' },
        matchmaker: { target: 'churned' },
      },
    }),
    archival,
  });

/** Deploys a config with this archival section (raw text: it may be invalid) and imports the handler. */
async function cleanupWith(archival: string): Promise<Handler> {
  let parsed: unknown = archival;
  try {
    parsed = JSON.parse(archival);
  } catch {
    // kept as text: the deployed config then is not JSON at all
  }
  writeFileSync(
    process.env[ENV.configFile] as string,
    typeof parsed === 'string' ? parsed : configWith(parsed),
  );
  vi.resetModules();
  return ((await import('../../lambdas/handlers/cleanup.js')) as { handler: Handler }).handler;
}

describe('cleanup handler (daily retention, DynamoDB Local + s3rver)', () => {
  let w: HandlerWorld;
  /** Bytes stored under runs/<model>/<runId>/ per run. */
  const runBytes = new Map<string, number>();

  async function version(model: string, runId: string, index: number) {
    const weights = `{"run":"${runId}","w":"${'x'.repeat(500 * (index + 1))}"}`;
    const files = { 'model.json': weights, 'metrics.jsonl': `{"epoch":1,"loss":0.${index}}\n` };
    for (const [name, body] of Object.entries(files)) {
      await w.objects.put({ bucket: w.bucket, key: `runs/${model}/${runId}/${name}` }, body);
    }
    runBytes.set(
      `${model}/${runId}`,
      Object.values(files).reduce((n, b) => n + Buffer.byteLength(b), 0),
    );
    const v = await w.registry.versions.registerVersion({
      model,
      bump: 'minor',
      metrics: METRICS,
      lineage: lineageFor(w.bucket, runId, {
        artifactUri: `s3://${w.bucket}/runs/${model}/${runId}/model.json`,
        artifactSha256: sha256(weights),
      }),
    });
    return v.version;
  }
  const move = (model: string, stage: string, v: string, action: StageChangeAction = 'promote') =>
    w.registry.stages.promote({ model, stage, version: v, actor: REQUESTOR, reason: 'fixture', action });
  const status = async (model: string) =>
    Object.fromEntries((await w.registry.versions.listVersions(model)).map((v) => [v.version, v.status]));
  const exists = async (model: string, runId: string) =>
    Boolean(await w.objects.head({ bucket: w.bucket, key: `runs/${model}/${runId}/model.json` }));
  const history = (model: string) => new CleanupHistory(w.dynamo.doc, w.table).list(model);
  const snapshot = async () => `${await w.scan()}\n${await w.s3Snapshot()}`;
  const bytes = (...runs: string[]) => runs.reduce((n, r) => n + (runBytes.get(r) ?? Number.NaN), 0);

  beforeAll(async () => {
    w = await handlerWorld('cleanup');
    writeFileSync(process.env[ENV.configFile] as string, configWith({ keepLastVersions: 2, floor: 1 }));
    // churn: production went 1.0.0 → 1.1.0 → 1.2.0; 1.3.0 was rejected, 1.4.0 failed;
    // 1.5.0 serves staging and 1.6.0 is still under review.
    const c = [];
    for (let i = 0; i <= 6; i++) c.push(await version('churn', `r${i}`, i));
    const [c0, c1, c2, c3, c4, c5] = c as [string, string, string, string, string, string];
    for (const v of [c0, c1, c2]) await move('churn', 'production', v);
    await move('churn', 'staging', c5);
    await w.registry.versions.transition('churn', c3, 'rejected', 'gate failed', 'mlcycle');
    await w.registry.versions.transition('churn', c4, 'failed', 'deploy failed', 'mlcycle');
    // matchmaker: production went 1.0.0 → 1.1.0 → 1.2.0, then was rolled back to 1.1.0, so its
    // next rollback goes to 1.0.0 (not back onto 1.2.0, the version it fled).
    const m = [];
    for (let i = 0; i <= 4; i++) m.push(await version('matchmaker', `m${i}`, i));
    const [m0, m1, m2] = m as [string, string, string];
    for (const v of [m0, m1, m2]) await move('matchmaker', 'production', v);
    await move('matchmaker', 'production', m1, 'rollback');
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('dry run: reports what it would archive and the bytes it would reclaim, changing nothing', async () => {
    const handler = await cleanupWith(JSON.stringify({ keepLastVersions: 2, floor: 1, dryRun: true }));
    const before = await snapshot();
    const out = await handler(scheduledEvent);
    expect(out).toEqual({
      dryRun: true,
      reclaimedBytes: bytes('churn/r0', 'churn/r3', 'churn/r4', 'matchmaker/m2'),
      archived: 4,
    });
    expect(await snapshot()).toBe(before);
  });

  it('keeps the newest N, whatever serves, rollback targets and versions under review; archives the rest', async () => {
    const handler = await cleanupWith(JSON.stringify({ keepLastVersions: 2, floor: 1 }));
    const pointers = JSON.stringify([
      await w.registry.stages.listStages('churn'),
      await w.registry.stages.listStages('matchmaker'),
      await w.registry.stages.history('churn'),
      await w.registry.stages.history('matchmaker'),
    ]);

    const out = await handler(scheduledEvent);

    expect(out).toEqual({
      dryRun: false,
      reclaimedBytes: bytes('churn/r0', 'churn/r3', 'churn/r4', 'matchmaker/m2'),
      archived: 4,
    });
    expect(await status('churn')).toEqual({
      '1.6.0': 'validating', // newest, under review
      '1.5.0': 'ready', // newest, serves staging
      '1.4.0': 'archived', // failed
      '1.3.0': 'archived', // rejected
      '1.2.0': 'ready', // serves production
      '1.1.0': 'ready', // production's rollback target
      '1.0.0': 'archived',
    });
    expect(await status('matchmaker')).toEqual({
      '1.4.0': 'validating',
      '1.3.0': 'validating',
      '1.2.0': 'archived', // rolled back from: not where a rollback goes
      '1.1.0': 'ready', // serves production
      '1.0.0': 'ready', // where production's next rollback goes
    });
    // Each model's cleanup is on record: what, why, the bytes, what started it.
    const [churnCleanup] = await history('churn');
    expect(churnCleanup).toMatchObject({
      model: 'churn',
      trigger: 'daily',
      actor: 'mlcycle-cleanup',
      policy: { keepLastVersions: 2, floor: 1 },
      kept: 4,
      reclaimedBytes: bytes('churn/r0', 'churn/r3', 'churn/r4'),
      deletedObjects: 6,
    });
    expect(churnCleanup?.archived.map((a) => [a.version, a.reasons, a.bytes])).toEqual([
      ['1.4.0', ['beyond the newest 2'], bytes('churn/r4')],
      ['1.3.0', ['beyond the newest 2'], bytes('churn/r3')],
      ['1.0.0', ['beyond the newest 2'], bytes('churn/r0')],
    ]);
    for (const run of ['r0', 'r3', 'r4']) expect(await exists('churn', run)).toBe(false);
    for (const run of ['r1', 'r2', 'r5', 'r6']) expect(await exists('churn', run)).toBe(true);
    expect(await exists('matchmaker', 'm2')).toBe(false);
    expect(await exists('matchmaker', 'm0')).toBe(true);
    // Stage pointers and the ledger are the registry's history: retention never touches them.
    expect(
      JSON.stringify([
        await w.registry.stages.listStages('churn'),
        await w.registry.stages.listStages('matchmaker'),
        await w.registry.stages.history('churn'),
        await w.registry.stages.history('matchmaker'),
      ]),
    ).toBe(pointers);

    // What it kept still works: the rollback target's artifact validates and the stage moves.
    const back = await rollback(
      {
        registry: w.registry,
        objects: w.objects,
        bucket: w.bucket,
        config: JSON.parse(configWith({})),
        clientBaseUrl: 'https://cdn.test/',
      },
      { model: 'matchmaker', stage: 'production', reason: 'after cleanup', actor: 'a@studio.test' },
    );
    expect(back.entry).toMatchObject({ action: 'rollback', fromVersion: '1.1.0', toVersion: '1.0.0' });
  });

  it('after a successful execution: that model only, recorded as a deploy cleanup', async () => {
    const handler = await cleanupWith(JSON.stringify({ keepLastVersions: 2, floor: 1 }));
    const churnBefore = await history('churn');
    // matchmaker production now serves 1.0.0, rolled back from 1.1.0: nothing earlier to go to.
    expect(await handler(succeededEvent('matchmaker'))).toEqual({
      dryRun: false,
      reclaimedBytes: bytes('matchmaker/m1'),
      archived: 1,
    });
    expect((await status('matchmaker'))['1.1.0']).toBe('archived');
    expect((await history('matchmaker'))[0]).toMatchObject({
      trigger: 'deploy',
      archived: [{ version: '1.1.0' }],
    });
    expect(await history('churn')).toEqual(churnBefore);
  });

  it('a run that finds nothing changes no version and no object', async () => {
    const handler = await cleanupWith(JSON.stringify({ keepLastVersions: 2, floor: 1 }));
    const before = `${JSON.stringify(await status('churn'))}${JSON.stringify(await status('matchmaker'))}${await w.s3Snapshot()}`;
    expect(await handler(scheduledEvent)).toEqual({ dryRun: false, reclaimedBytes: 0, archived: 0 });
    expect(
      `${JSON.stringify(await status('churn'))}${JSON.stringify(await status('matchmaker'))}${await w.s3Snapshot()}`,
    ).toBe(before);
    expect((await history('churn'))[0]).toMatchObject({ trigger: 'daily', archived: [], reclaimedBytes: 0 });
  });

  it('a bad archival section in the deployed config ⇒ ValidationError naming the key, nothing changed', async () => {
    const before = await snapshot();
    for (const [config, says] of [
      [JSON.stringify({ keepLastVersions: 0 }), 'keepLastVersions'],
      [JSON.stringify({ floor: 0 }), 'floor'],
      [JSON.stringify({ keepLast: 3 }), 'keepLast'],
      ['{not json', 'JSON'],
    ] as const) {
      const handler = await cleanupWith(config);
      const failure = handler(scheduledEvent);
      await expect(failure).rejects.toMatchObject({ name: 'ValidationError' });
      await expect(failure).rejects.toThrow('deployed config');
      await expect(failure).rejects.toThrow(says);
    }
    expect(await snapshot()).toBe(before);
  });
});
