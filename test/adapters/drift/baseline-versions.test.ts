import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredBaselineVersion } from '../../../lambdas/adapters/drift/baseline-versions.js';
import { DriftStore } from '../../../lambdas/adapters/drift/drift-store.js';
import type { BaselineAuditEntry, DiscardMark } from '../../../lambdas/domain/drift/baselines.js';
import type { DriftRecord } from '../../../lambdas/domain/drift/record.js';
import { startTestDynamo, type TestDynamo, tableSnapshot } from '../../support/emulators.js';

/** The baseline-version items on DynamoDB Local: never overwritten, decisions whole or absent. */
describe('BaselineVersions (DynamoDB Local)', () => {
  let dynamo: TestDynamo;
  let table: string;
  let store: DriftStore;

  const version = (id: string, extra: Partial<StoredBaselineVersion> = {}): StoredBaselineVersion => ({
    model: 'churn',
    id,
    sourceKey: `monitoring/churn/baseline/${id}.csv`,
    profileKey: `reports/churn/profiles/baseline-${id}.json`,
    rows: 100,
    columns: 2,
    // a column named "__proto__" (an own property, as the profiler's null-prototype maps hold it)
    kinds: Object.assign(Object.create(null), JSON.parse('{"__proto__":"numeric","churned":"numeric"}')),
    uploadedAt: `2026-11-0${id.length}T00:00:00.000Z`,
    uploadedBy: 'S3 upload',
    ...extra,
  });
  const mark: DiscardMark = {
    by: 'a@studio.test',
    principal: null,
    at: '2026-11-10T00:00:00.000Z',
    reason: 'bad',
  };
  const audit = (action: BaselineAuditEntry['action'], target: string): BaselineAuditEntry => ({
    model: 'churn',
    action,
    target,
    actor: 'a@studio.test',
    principal: null,
    at: '2026-11-10T00:00:00.000Z',
    reason: 'bad',
  });
  const snapshot = () => tableSnapshot(dynamo.doc, table);

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    table = await dynamo.newTable();
    store = new DriftStore(dynamo.doc, table);
  });
  afterAll(async () => {
    await dynamo?.stop();
  });

  it('a version is never overwritten (a redelivery of the upload changes nothing); kinds keep odd column names', async () => {
    await store.versions.put(version('a'));
    await store.versions.put(version('a', { rows: 999, sourceKey: 'monitoring/churn/baseline/other.csv' }));
    const got = await store.versions.get('churn', 'a');
    expect(got).toMatchObject({ rows: 100, sourceKey: 'monitoring/churn/baseline/a.csv' });
    expect(Object.keys(got?.kinds ?? {}).sort()).toEqual(['__proto__', 'churned']);
    expect(await store.versions.get('churn', 'nope')).toBeUndefined();
  });

  it('use is conditional on the pointer read: a stale expectation writes nothing', async () => {
    await store.versions.put(version('bb'));
    await store.putBaseline({ ...version('bb'), createdAt: '2026-11-02T00:00:00.000Z' });
    const before = await snapshot();
    await expect(
      store.versions.use(version('a'), 'reports/churn/profiles/baseline-zz.json', audit('use-baseline', 'a')),
    ).rejects.toThrow(/using baseline a of churn: the baselines changed meanwhile.*nothing was written/);
    expect(await snapshot()).toBe(before);
    await store.versions.use(version('a'), version('bb').profileKey, audit('use-baseline', 'a'));
    expect(await store.getBaseline('churn')).toMatchObject({
      id: 'a',
      profileKey: version('a').profileKey,
      rows: 100,
    });
    expect((await store.versions.audit('churn')).map((x) => x.target)).toEqual(['a']);
  });

  it('discarding is refused when the version is the active one, or is discarded already', async () => {
    const before = await snapshot();
    await expect(store.versions.discard(version('a'), mark, audit('discard-baseline', 'a'))).rejects.toThrow(
      /changed meanwhile/,
    );
    expect(await snapshot()).toBe(before);
    await store.versions.discard(version('bb'), mark, audit('discard-baseline', 'bb'));
    expect((await store.versions.get('churn', 'bb'))?.discarded).toEqual(mark);
    const after = await snapshot();
    await expect(
      store.versions.discard(version('bb'), mark, audit('discard-baseline', 'bb')),
    ).rejects.toThrow(/changed meanwhile/);
    // and a discarded version cannot be pointed at, whatever the caller read
    await expect(
      store.versions.use(version('bb'), version('a').profileKey, audit('use-baseline', 'bb')),
    ).rejects.toThrow(/changed meanwhile/);
    expect(await snapshot()).toBe(after);
  });

  it('a discarded batch leaves listRecords unless asked for; a record that is not there is not created', async () => {
    const record: DriftRecord = {
      model: 'churn',
      batchId: 'b1',
      batchKey: 'monitoring/churn/batches/x.csv',
      kind: 'batch',
      checkedAt: '2026-11-05T00:00:00.000Z',
      status: 'ok',
      overallSeverity: 'high',
      driftedShare: 0.5,
      rows: 10,
      features: [],
      alerted: true,
    };
    await store.putRecord(record);
    await store.putRecord({ ...record, batchId: 'b2', batchKey: 'monitoring/churn/batches/y.csv' });
    expect(await store.versions.recordsOf('churn', record.batchKey)).toEqual([record]);
    const before = await snapshot();
    await expect(
      store.versions.discardBatch(
        { ...record, batchId: 'ghost' },
        mark,
        audit('discard-batch', record.batchKey),
      ),
    ).rejects.toThrow(/changed meanwhile/);
    expect(await snapshot()).toBe(before);
    expect(await store.versions.discardBatch(record, mark, audit('discard-batch', record.batchKey))).toBe(
      false,
    );
    const since = new Date(0);
    expect((await store.listRecords('churn', since)).map((r) => r.batchId)).toEqual(['b2']);
    expect(
      (await store.listRecords('churn', since, { includeDiscarded: true })).map((r) => r.batchId),
    ).toEqual(['b1', 'b2']);
    expect((await store.findRecord('churn', record.batchKey))?.discarded).toEqual(mark);
  });
});
