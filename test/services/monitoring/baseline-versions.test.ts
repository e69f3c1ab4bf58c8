import '../../../local/polyfills.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftStore } from '../../../lambdas/adapters/drift/drift-store.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { monitoringRuntimeSchema } from '../../../lambdas/contracts/config-schema.js';
import type { Caller } from '../../../lambdas/contracts/routes.js';
import { baselineProfileKey } from '../../../lambdas/contracts/s3-layout.js';
import type { DriftRecord } from '../../../lambdas/domain/drift/record.js';
import { summarizeTrend } from '../../../lambdas/domain/drift/trend.js';
import { processBaseline } from '../../../lambdas/services/monitoring/baseline.js';
import {
  type BaselineDecisionDeps,
  discardBaseline,
  discardBatch,
  listBaselines,
  useBaseline,
} from '../../../lambdas/services/monitoring/baseline-decisions.js';
import { processBatch } from '../../../lambdas/services/monitoring/batch-check.js';
import type { MonitoringDeps, UploadedObject } from '../../../lambdas/services/monitoring/deps.js';
import { churnCsv } from '../../../local/data/churn.js';
import {
  startTestDynamo,
  startTestS3,
  type TestDynamo,
  type TestS3,
  tableSnapshot,
} from '../../support/emulators.js';

/**
 * Baseline versions, using an earlier one, discarding one or a bad batch (issue 12): the upload
 * path (processBaseline) and the decisions (baseline-decisions) on DynamoDB Local and s3rver.
 */
const ALICE: Caller = { person: 'alice@studio.test', principal: 'arn:aws:iam::111122223333:user/alice' };

describe('baseline versions and discarded batches', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  let table: string;
  let bucket: string;
  let store: DriftStore;
  let monitoring: MonitoringDeps;
  let deps: BaselineDecisionDeps;
  let clock = new Date('2026-11-20T10:00:00.000Z');
  const tick = () => {
    clock = new Date(clock.getTime() + 60_000);
    return clock;
  };

  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
    bucket = await s3.newBucket();
    table = await dynamo.newTable();
    store = new DriftStore(dynamo.doc, table);
    const objects = new S3Objects(s3.local.client);
    monitoring = {
      store,
      objects,
      bucket,
      config: monitoringRuntimeSchema.parse({
        models: { churn: { target: 'churned', exclude: ['player_id'] } },
      }),
      alerts: { publish: async () => ({ id: '1' }) },
      parallel: { workers: 0 },
      clock: tick,
    };
    deps = { store, objects, bucket, models: ['churn'], clock: tick };
  });
  afterAll(async () => {
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  });

  const upload = async (key: string, body: string): Promise<UploadedObject> => {
    await monitoring.objects.put({ bucket, key }, body);
    const head = await monitoring.objects.head({ bucket, key });
    return { bucket, key, version: head?.etag ?? 'x', uploader: 'AWS:AIDAUPLOADER' };
  };
  const text = (key: string) => monitoring.objects.getText({ bucket, key });
  const snapshot = () => tableSnapshot(dynamo.doc, table);

  let first: string;
  let second: string;
  let firstProfile: string;

  it('keeps every accepted baseline as a version, never overwriting an earlier profile', async () => {
    const a = await processBaseline(
      monitoring,
      await upload('monitoring/churn/baseline/a.csv', churnCsv({ rows: 800, seed: 1 })),
    );
    expect(a?.status).toBe('ok');
    first = a?.batchId ?? '';
    const afterFirst = await listBaselines(deps, 'churn');
    firstProfile = await text(afterFirst.versions[0]?.profileKey ?? '');

    const b = await processBaseline(
      monitoring,
      await upload(
        'monitoring/churn/baseline/b.csv',
        churnCsv({ rows: 600, seed: 2, drift: { daysSinceLoginShift: 8 } }),
      ),
    );
    second = b?.batchId ?? '';
    const listing = await listBaselines(deps, 'churn');
    expect(listing.active).toBe(second);
    expect(listing.versions.map((v) => [v.id, v.sourceKey, v.rows, v.active])).toEqual([
      [second, 'monitoring/churn/baseline/b.csv', 600, true],
      [first, 'monitoring/churn/baseline/a.csv', 800, false],
    ]);
    expect(listing.versions[1]).toMatchObject({
      columns: expect.any(Number),
      uploadedBy: 'S3 upload by AWS:AIDAUPLOADER',
      uploadedAt: a?.checkedAt,
    });
    expect(listing.versions[0]?.profileKey).not.toBe(listing.versions[1]?.profileKey);
    // the first version's profile is as it was written
    expect(await text(listing.versions[1]?.profileKey ?? '')).toBe(firstProfile);
    expect(listing.audit).toEqual([]);
  });

  it('refuses to discard the active baseline, saying to use another first, and writes nothing', async () => {
    const before = await snapshot();
    await expect(
      discardBaseline(deps, { model: 'churn', id: second, reason: 'bad export' }, ALICE),
    ).rejects.toThrow(
      new RegExp(
        `^baseline ${second} is the active baseline of churn and cannot be discarded; make another one active first: mlcycle drift use-baseline churn <id>`,
      ),
    );
    expect(await snapshot()).toBe(before);
  });

  it('refuses a decision without a reason, an unknown id or model, and writes nothing', async () => {
    const before = await snapshot();
    await expect(useBaseline(deps, { model: 'churn', id: first, reason: '  ' }, ALICE)).rejects.toThrow(
      /needs a reason/,
    );
    await expect(
      useBaseline(deps, { model: 'churn', id: first, reason: 'a\u001b[2Jb' }, ALICE),
    ).rejects.toThrow(/without control characters/);
    await expect(useBaseline(deps, { model: 'churn', id: 'nope', reason: 'x' }, ALICE)).rejects.toThrow(
      `no baseline "nope" for churn; its baselines are ${second}, ${first}`,
    );
    await expect(useBaseline(deps, { model: 'ltv', id: first, reason: 'x' }, ALICE)).rejects.toThrow(
      /unknown model "ltv"; the deployed config defines: churn/,
    );
    await expect(useBaseline(deps, { model: 'churn', id: second, reason: 'x' }, ALICE)).rejects.toThrow(
      /already the active baseline/,
    );
    expect(await snapshot()).toBe(before);
  });

  it('uses an earlier baseline: the pointer, the current copy and the next batch check follow; audited', async () => {
    const out = await useBaseline(
      deps,
      { model: 'churn', id: first, reason: 'b.csv was a test export' },
      ALICE,
    );
    expect(out.warnings).toEqual([]);
    expect(out.audit).toMatchObject({
      action: 'use-baseline',
      target: first,
      previous: second,
      actor: 'alice@studio.test',
      principal: ALICE.principal,
      reason: 'b.csv was a test export',
    });
    const pointer = await store.getBaseline('churn');
    expect(pointer).toMatchObject({ id: first, sourceKey: 'monitoring/churn/baseline/a.csv', rows: 800 });
    expect(Object.keys(pointer?.kinds ?? {})).toContain('churned');
    expect(await text(baselineProfileKey('churn'))).toBe(firstProfile);
    const batch = await processBatch(
      monitoring,
      await upload('monitoring/churn/batches/day1.csv', churnCsv({ rows: 600, seed: 5 })),
    );
    expect(batch?.baselineKey).toBe('monitoring/churn/baseline/a.csv');
    const listing = await listBaselines(deps, 'churn');
    expect(listing.active).toBe(first);
    expect(listing.audit).toEqual([out.audit]);
  });

  it('discards a baseline that is not active; a discarded one is never used again', async () => {
    const out = await discardBaseline(deps, { model: 'churn', id: second, reason: 'test export' }, ALICE);
    expect(out.audit).toMatchObject({
      action: 'discard-baseline',
      target: second,
      actor: 'alice@studio.test',
    });
    const listing = await listBaselines(deps, 'churn');
    expect(listing.versions.find((v) => v.id === second)?.discarded).toMatchObject({
      by: 'alice@studio.test',
      reason: 'test export',
    });
    expect(listing.audit.map((a) => a.action)).toEqual(['use-baseline', 'discard-baseline']);
    const before = await snapshot();
    await expect(useBaseline(deps, { model: 'churn', id: second, reason: 'x' }, ALICE)).rejects.toThrow(
      /was discarded by alice@studio.test \(test export\); a discarded baseline is never used again/,
    );
    await expect(discardBaseline(deps, { model: 'churn', id: second, reason: 'x' }, ALICE)).rejects.toThrow(
      /already discarded/,
    );
    expect(await snapshot()).toBe(before);
  });

  it('refuses a discard whose view went stale (the version became active meanwhile): nothing written', async () => {
    const c = await processBaseline(
      monitoring,
      await upload('monitoring/churn/baseline/c.csv', churnCsv({ rows: 500, seed: 3 })),
    );
    const versions = await store.versions.list('churn');
    const target = versions.find((v) => v.id === c?.batchId);
    // a discard decided when c was not yet active: the pointer names c now
    const before = await snapshot();
    await expect(
      store.versions.discard(
        target as NonNullable<typeof target>,
        { by: 'x', principal: null, at: clock.toISOString(), reason: 'stale' },
        {
          model: 'churn',
          action: 'discard-baseline',
          target: c?.batchId ?? '',
          actor: 'x',
          principal: null,
          at: clock.toISOString(),
          reason: 'stale',
        },
      ),
    ).rejects.toThrow(/changed meanwhile.*nothing was written/);
    expect(await snapshot()).toBe(before);
  });

  it('two people using a baseline at once: one decision is recorded, the other refused whole', async () => {
    const auditBefore = (await listBaselines(deps, 'churn')).audit.length;
    const BOB: Caller = { person: 'bob@studio.test', principal: null };
    const outcomes = await Promise.allSettled([
      useBaseline(deps, { model: 'churn', id: first, reason: 'alice: back to a' }, ALICE),
      useBaseline(deps, { model: 'churn', id: first, reason: 'bob: back to a' }, BOB),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected');
    expect(String((refused as PromiseRejectedResult).reason)).toMatch(
      // lost the race in the transaction, or read the winner's pointer: refused either way
      /changed meanwhile.*nothing was written|is already the active baseline/,
    );
    const listing = await listBaselines(deps, 'churn');
    expect(listing.active).toBe(first);
    expect(listing.audit).toHaveLength(auditBefore + 1);
  });

  it('discards a bad batch: kept and marked, left out of the trend, audited; refused twice', async () => {
    const good = await processBatch(
      monitoring,
      await upload('monitoring/churn/batches/day2.csv', churnCsv({ rows: 600, seed: 6 })),
    );
    const bad = await processBatch(
      monitoring,
      await upload(
        'monitoring/churn/batches/broken.csv',
        churnCsv({ rows: 600, seed: 7, drift: { daysSinceLoginShift: 20, missingRate: 0.6 } }),
      ),
    );
    expect(bad?.overallSeverity).not.toBe('none');
    const trendBefore = summarizeTrend(await store.listRecords('churn', new Date(0)), 30);
    const out = await discardBatch(
      deps,
      {
        model: 'churn',
        batchKey: 'monitoring/churn/batches/broken.csv',
        reason: 'export job wrote half rows',
      },
      ALICE,
    );
    expect(out.cooldownReleased).toBe(false);
    expect(out.record.discarded).toMatchObject({
      by: 'alice@studio.test',
      reason: 'export job wrote half rows',
    });
    const visible = await store.listRecords('churn', new Date(0));
    expect(visible.map((r) => r.batchKey)).not.toContain('monitoring/churn/batches/broken.csv');
    expect(visible.map((r) => r.batchKey)).toContain(good?.batchKey);
    const all = await store.listRecords('churn', new Date(0), { includeDiscarded: true });
    expect(all.find((r) => r.batchKey === bad?.batchKey)).toMatchObject({
      overallSeverity: bad?.overallSeverity,
      discarded: { by: 'alice@studio.test', principal: ALICE.principal },
    });
    const trendAfter = summarizeTrend(visible, 30);
    expect(trendAfter.batches).toBe(trendBefore.batches - 1);
    expect((await listBaselines(deps, 'churn')).audit.at(-1)).toMatchObject({
      action: 'discard-batch',
      target: 'monitoring/churn/batches/broken.csv',
    });
    const before = await snapshot();
    await expect(
      discardBatch(
        deps,
        { model: 'churn', batchKey: 'monitoring/churn/batches/broken.csv', reason: 'x' },
        ALICE,
      ),
    ).rejects.toThrow(/already discarded by alice@studio.test/);
    await expect(
      discardBatch(
        deps,
        { model: 'churn', batchKey: 'monitoring/churn/batches/nope.csv', reason: 'x' },
        ALICE,
      ),
    ).rejects.toThrow(/no drift record of churn for "monitoring\/churn\/batches\/nope.csv"/);
    await expect(
      discardBatch(deps, { model: 'churn', batchKey: 'monitoring/churn/baseline/a.csv', reason: 'x' }, ALICE),
    ).rejects.toThrow(/is a baseline upload, not a batch; discard a baseline with/);
    expect(await snapshot()).toBe(before);
  });

  it('gives back the retrain cool-down a discarded batch took, and only that', async () => {
    const at = tick();
    expect(await store.claimRetrain('churn', at, 24)).toBe(true);
    const record: DriftRecord = {
      model: 'churn',
      batchId: 'critical1',
      batchKey: 'monitoring/churn/batches/critical.csv',
      kind: 'batch',
      checkedAt: at.toISOString(),
      status: 'ok',
      overallSeverity: 'critical',
      driftedShare: 1,
      rows: 900,
      features: [],
      alerted: true,
      retrainExecution: 'arn:aws:states:eu-west-1:000000000000:execution:mlcycle-lifecycle:x',
    };
    await store.putRecord(record);
    expect(await store.claimRetrain('churn', tick(), 24)).toBe(false);
    const out = await discardBatch(
      deps,
      { model: 'churn', batchKey: record.batchKey, reason: 'replayed file' },
      ALICE,
    );
    expect(out.cooldownReleased).toBe(true);
    expect(await store.claimRetrain('churn', tick(), 24)).toBe(true);
  });

  it('lists a pointer written before versions were kept, and keeps it listable after another is used', async () => {
    const legacyTable = await dynamo.newTable();
    const legacyStore = new DriftStore(dynamo.doc, legacyTable);
    const d = { ...deps, store: legacyStore };
    await legacyStore.putBaseline({
      model: 'churn',
      profileKey: 'reports/churn/profiles/baseline-0123456789ab.json',
      sourceKey: 'monitoring/churn/baseline/old.csv',
      rows: 42,
      kinds: { churned: 'numeric' },
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const before = await listBaselines(d, 'churn');
    expect(before.versions).toMatchObject([{ id: '0123456789ab', active: true, rows: 42, columns: 1 }]);
    const stored = (await store.versions.list('churn')).find((v) => v.id === first);
    await legacyStore.versions.put({
      ...(stored as NonNullable<typeof stored>),
      uploadedAt: '2026-02-01T00:00:00.000Z',
    });
    await useBaseline(d, { model: 'churn', id: first, reason: 'the newer one' }, ALICE);
    const after = await listBaselines(d, 'churn');
    expect(after.versions.map((v) => [v.id, v.active])).toEqual([
      [first, true],
      ['0123456789ab', false],
    ]);
    await useBaseline(d, { model: 'churn', id: '0123456789ab', reason: 'back' }, ALICE);
    expect((await legacyStore.getBaseline('churn'))?.profileKey).toBe(
      'reports/churn/profiles/baseline-0123456789ab.json',
    );
  });
});
