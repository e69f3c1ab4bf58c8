import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from '../../../lambdas/adapters/registry/registry.js';
import type { Lineage } from '../../../lambdas/domain/registry/types.js';
import { startTestDynamo, type TestDynamo } from '../../support/emulators.js';

const lineage = (runId: string, over: Partial<Lineage> = {}): Lineage => ({
  parentVersion: null,
  datasetUri: 's3://b/datasets/m/d.csv',
  datasetSha256: 'a'.repeat(64),
  codeVersion: 'abc',
  runId,
  hyperparameters: { epochs: 3 },
  framework: 'mlcycle-logreg@1.0.0',
  artifactUri: `s3://b/runs/m/${runId}/model.json`,
  artifactSha256: 'b'.repeat(64),
  author: 'dev@studio.test',
  ...over,
});
const metrics = { auc: 0.8, accuracy: 0.7, precision: 0.6, recall: 0.5, f1: 0.55, logLoss: 0.5 };

describe('the registry adapters (runs, versions, stages and ledger, catalog) on DynamoDB Local', () => {
  let dynamo: TestDynamo;
  let store: Registry;
  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  beforeEach(async () => {
    store = new Registry(dynamo.doc, await dynamo.newTable());
  });

  it('allocates 1.0.0 first, then bumps from the highest allocated version', async () => {
    expect(
      (await store.versions.registerVersion({ model: 'm', bump: 'minor', lineage: lineage('r1'), metrics }))
        .version,
    ).toBe('1.0.0');
    expect(
      (await store.versions.registerVersion({ model: 'm', bump: 'minor', lineage: lineage('r2'), metrics }))
        .version,
    ).toBe('1.1.0');
    expect(
      (
        await store.versions.registerVersion({
          model: 'm',
          version: '3.0.0',
          lineage: lineage('r3'),
          metrics,
        })
      ).version,
    ).toBe('3.0.0');
    expect(
      (await store.versions.registerVersion({ model: 'm', bump: 'patch', lineage: lineage('r4'), metrics }))
        .version,
    ).toBe('3.0.1');
    expect((await store.versions.listVersions('m')).map((v) => v.version)).toEqual([
      '3.0.1',
      '3.0.0',
      '1.1.0',
      '1.0.0',
    ]);
  });

  it('20 concurrent registrations get 20 distinct versions', async () => {
    const out = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.versions.registerVersion({ model: 'm', bump: 'patch', lineage: lineage(`r${i}`), metrics }),
      ),
    );
    const versions = out.map((v) => v.version);
    expect(new Set(versions).size).toBe(20);
    expect((await store.versions.listVersions('m')).length).toBe(20);
    expect((await store.versions.getModel('m'))?.versionCount).toBe(20);
  });

  it('refuses an explicit duplicate, writing nothing', async () => {
    await store.versions.registerVersion({ model: 'm', version: '2.0.0', lineage: lineage('r1'), metrics });
    await expect(
      store.versions.registerVersion({ model: 'm', version: '2.0.0', lineage: lineage('r2'), metrics }),
    ).rejects.toThrow(/2\.0\.0 already exists/);
    expect((await store.versions.listVersions('m')).map((v) => v.lineage.runId)).toEqual(['r1']);
  });

  it('names unknown models and versions', async () => {
    await expect(store.versions.requireVersion('ghost', '1.0.0')).rejects.toThrow(/unknown model "ghost"/);
    await store.versions.registerVersion({ model: 'm', bump: 'major', lineage: lineage('r1'), metrics });
    await expect(store.versions.requireVersion('m', '9.9.9')).rejects.toThrow(/model m has no version 9.9.9/);
  });

  it('allows only legal status transitions and keeps their history', async () => {
    const v = await store.versions.registerVersion({
      model: 'm',
      bump: 'major',
      lineage: lineage('r1'),
      metrics,
    });
    await expect(store.versions.transition('m', v.version, 'archived', 'x', 'ops')).rejects.toThrow(
      /cannot go from validating to archived/,
    );
    const rejected = await store.versions.transition('m', v.version, 'rejected', 'gate failed', 'mlcycle');
    expect(rejected.statusHistory.map((s) => s.to)).toEqual(['validating', 'rejected']);
    await expect(
      store.stages.promote({
        model: 'm',
        stage: 'prod',
        version: v.version,
        actor: 'a',
        reason: 'r',
        action: 'promote',
      }),
    ).rejects.toThrow(/is rejected/);
  });

  it('20 concurrent promotions to one stage form one ledger chain that ends at the pointer', async () => {
    const versions = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.versions.registerVersion({ model: 'm', bump: 'patch', lineage: lineage(`r${i}`), metrics }),
      ),
    );
    await Promise.all(
      versions.map((v) =>
        store.stages.promote({
          model: 'm',
          stage: 'production',
          version: v.version,
          actor: 'ci',
          reason: 'test',
          action: 'promote',
        }),
      ),
    );
    const ledger = (await store.stages.history('m', { stage: 'production' })).sort((a, b) => a.seq - b.seq);
    expect(ledger.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(ledger[0]?.fromVersion).toBeNull();
    for (let i = 1; i < ledger.length; i++) expect(ledger[i]?.fromVersion).toBe(ledger[i - 1]?.toVersion);
    const pointer = await store.stages.getStage('m', 'production');
    expect(pointer?.version).toBe(ledger.at(-1)?.toVersion);
    expect(pointer?.ledgerSeq).toBe(20);
    expect(new Set(ledger.map((e) => e.toVersion)).size).toBe(20);
  });

  it('answers what was serving at time T', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const timed = new Registry(dynamo.doc, await dynamo.newTable(), () => now);
    const a = await timed.versions.registerVersion({
      model: 'm',
      bump: 'major',
      lineage: lineage('r1'),
      metrics,
    });
    const b = await timed.versions.registerVersion({
      model: 'm',
      bump: 'minor',
      lineage: lineage('r2'),
      metrics,
    });
    await timed.stages.promote({
      model: 'm',
      stage: 'production',
      version: a.version,
      actor: 'x',
      reason: 'first',
      action: 'promote',
    });
    now = new Date('2026-02-01T00:00:00Z');
    await timed.stages.promote({
      model: 'm',
      stage: 'production',
      version: b.version,
      actor: 'x',
      reason: 'second',
      action: 'promote',
    });
    expect(
      (await timed.stages.servingAt('m', 'production', new Date('2025-12-31T00:00:00Z')))?.toVersion,
    ).toBeUndefined();
    expect(
      (await timed.stages.servingAt('m', 'production', new Date('2026-01-15T00:00:00Z')))?.toVersion,
    ).toBe(a.version);
    expect(
      (await timed.stages.servingAt('m', 'production', new Date('2026-03-01T00:00:00Z')))?.toVersion,
    ).toBe(b.version);
    // Every stage at once (`mlcycle models history --at`): staging got a later, and production kept b.
    now = new Date('2026-02-10T00:00:00Z');
    await timed.stages.promote({
      model: 'm',
      stage: 'staging',
      version: a.version,
      actor: 'x',
      reason: 'third',
      action: 'promote',
    });
    const servedAt = async (t: string) =>
      (await timed.stages.inForceAt('m', new Date(t))).map((e) => `${e.stage}@${e.toVersion}`);
    expect(await servedAt('2026-02-05T00:00:00Z')).toEqual([`production@${b.version}`]);
    expect(await servedAt('2026-03-01T00:00:00Z')).toEqual([
      `staging@${a.version}`,
      `production@${b.version}`,
    ]);
  });

  it('records runs and reports stats by stage and status', async () => {
    await store.runs.putRun({
      model: 'm',
      runId: '20260101T000000Z-aaaaaa',
      stage: 'staging',
      status: 'training',
      trigger: 'manual',
      requestedBy: 'me',
      reason: '',
      datasetUri: 's3://b/d.csv',
      hyperparameters: {},
      startedAt: new Date().toISOString(),
    });
    await store.runs.updateRun('m', '20260101T000000Z-aaaaaa', {
      status: 'failed',
      failure: { kind: 'training', error: 'E', cause: 'c' },
    });
    expect((await store.runs.getRun('m', '20260101T000000Z-aaaaaa'))?.status).toBe('failed');
    await expect(store.runs.updateRun('m', 'nope', { status: 'failed' })).rejects.toThrow(
      /run nope of model m does not exist/,
    );
    const v = await store.versions.registerVersion({
      model: 'm',
      bump: 'major',
      lineage: lineage('r1'),
      metrics,
    });
    await store.versions.registerVersion({ model: 'm', bump: 'minor', lineage: lineage('r2'), metrics });
    await store.stages.promote({
      model: 'm',
      stage: 'staging',
      version: v.version,
      actor: 'x',
      reason: 'y',
      action: 'promote',
    });
    const stats = await store.catalog.stats();
    expect(stats).toMatchObject({
      models: 1,
      versionsByStatus: { ready: 1, validating: 1 },
      servingByStage: { staging: 1 },
      deploymentsLast7Days: 1,
      pendingPromotions: 1,
    });
    expect((await store.catalog.listModels())[0]).toMatchObject({
      model: 'm',
      latestVersion: '1.1.0',
      stages: { staging: '1.0.0' },
    });
  });
});
