import '../../../local/polyfills.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftStore } from '../../../lambdas/adapters/drift/drift-store.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { monitoringRuntimeSchema } from '../../../lambdas/contracts/config-schema.js';
import { baselineProfileKey } from '../../../lambdas/contracts/s3-layout.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { processBaseline } from '../../../lambdas/services/monitoring/baseline.js';
import { processBatch } from '../../../lambdas/services/monitoring/batch-check.js';
import type { MonitoringDeps, UploadedObject } from '../../../lambdas/services/monitoring/deps.js';
import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../../support/emulators.js';

/** Inputs that fooled or sank monitoring (issue 12), each reproduced on the emulators. */
function csv(rows: number, seed: number, columns = ['x', 'y', 'region', 'churned']): string {
  const rng = new Random(seed);
  const out = [columns.join(',')];
  for (let i = 0; i < rows; i++) {
    out.push(
      columns
        .map((c, j) =>
          c === 'region'
            ? ['eu', 'na', 'apac'][i % 3]
            : c === 'churned'
              ? i % 3 === 0
                ? 1
                : 0
              : rng.normal(j, 1).toFixed(4),
        )
        .join(','),
    );
  }
  return `${out.join('\n')}\n`;
}

describe('monitoring refuses inputs that would fool or sink it', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  let deps: MonitoringDeps;
  let bucket: string;
  let store: DriftStore;
  const alerts: { subject: string; message: string }[] = [];

  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
    bucket = await s3.newBucket();
    store = new DriftStore(dynamo.doc, await dynamo.newTable());
    deps = {
      store,
      objects: new S3Objects(s3.local.client),
      bucket,
      config: monitoringRuntimeSchema.parse({
        maxColumns: 50,
        models: { churn: { target: 'churned', exclude: [] } },
      }),
      alerts: {
        publish: async (a) => {
          alerts.push(a);
          return { id: String(alerts.length) };
        },
      },
      parallel: { workers: 0 },
    };
    const good = await upload('monitoring/churn/baseline/good.csv', csv(400, 1));
    expect((await processBaseline(deps, good))?.status).toBe('ok');
  });
  afterAll(async () => {
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  });

  const upload = async (key: string, body: string | Buffer): Promise<UploadedObject> => {
    await deps.objects.put({ bucket, key }, body);
    const head = await deps.objects.head({ bucket, key });
    return { bucket, key, version: head?.etag ?? 'x' };
  };
  /** The baseline as batches see it: its pointer and the profile it points to. */
  const baselineState = async () => {
    const pointer = await store.getBaseline('churn');
    const profile = pointer ? await deps.objects.getText({ bucket, key: pointer.profileKey }) : undefined;
    const current = await deps.objects.getText({ bucket, key: baselineProfileKey('churn') });
    return { pointer, profile, current };
  };
  const recordsOf = async (key: string) =>
    (await store.listRecords('churn', new Date(0))).filter((r) => r.batchKey === key);

  /** Uploads `body`, runs `kind` on it, and checks one error record naming `reason` and an unchanged baseline. */
  async function refused(kind: 'baseline' | 'batch', name: string, body: string | Buffer, reason: RegExp) {
    const before = await baselineState();
    const key = `monitoring/churn/${kind === 'baseline' ? 'baseline' : 'batches'}/${name}`;
    const o = await upload(key, body);
    const record = await (kind === 'baseline' ? processBaseline : processBatch)(deps, o);
    expect(record?.status).toBe('error');
    expect(record?.error).toMatch(reason);
    expect(await recordsOf(key)).toEqual([record]);
    expect(await baselineState()).toEqual(before);
    return record;
  }

  it('a file wider than monitoring.maxColumns: an error record naming the count and the cap', async () => {
    const wide = Array.from({ length: 60 }, (_, i) => `c${i}`);
    for (const kind of ['baseline', 'batch'] as const) {
      const record = await refused(kind, `wide-${kind}.csv`, csv(20, 2, wide), /60 columns.*50/);
      expect(record?.error).toMatch(/maxColumns/);
    }
  });

  it('a header far longer than what is read first is refused on what was read', async () => {
    const wide = Array.from({ length: 200_000 }, (_, i) => `column_${i}`);
    await refused(
      'baseline',
      'very-wide.csv',
      `${wide.join(',')}\n${wide.map(() => '1').join(',')}\n`,
      /columns.*maxColumns 50/,
    );
  });

  it('columns named constructor, __proto__, toString, hasOwnProperty are profiled like any other', async () => {
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'churned'];
    const key = 'monitoring/churn/baseline/proto.csv';
    const o = await upload(key, csv(300, 3, names));
    const record = await processBaseline(deps, o);
    expect(record?.error).toBeUndefined();
    expect(record?.status).toBe('ok');
    const pointer = await store.getBaseline('churn');
    expect(pointer?.sourceKey).toBe(key);
    expect(Object.keys(pointer?.kinds ?? {}).sort()).toEqual([...names].sort());
    const profile = JSON.parse(await deps.objects.getText({ bucket, key: pointer?.profileKey ?? '' }));
    expect(Object.keys(profile.columns).sort()).toEqual([...names].sort());
    // and a batch with the same names is compared with it
    const batch = await processBatch(
      deps,
      await upload('monitoring/churn/batches/proto.csv', csv(300, 4, names)),
    );
    expect(batch?.error).toBeUndefined();
    expect(batch?.features.map((f) => f.name).sort()).toEqual([...names].sort());
    // the good baseline back, for the tests after this one
    expect(
      (await processBaseline(deps, await upload('monitoring/churn/baseline/good2.csv', csv(400, 1))))?.status,
    ).toBe('ok');
  });

  it('a batch with a column "constructor" the baseline lacks: checked, the column reported missing from the baseline', async () => {
    const key = 'monitoring/churn/batches/extra-constructor.csv';
    const record = await processBatch(
      deps,
      await upload(key, csv(300, 10, ['x', 'y', 'region', 'churned', 'constructor', '__proto__'])),
    );
    expect(record?.error).toBeUndefined();
    expect(record?.status).toBe('ok');
    expect(record?.features.map((f) => f.name)).not.toContain('constructor');
    expect(await recordsOf(key)).toEqual([record]);
  });

  const random = (n: number, seed: number) => {
    const rng = new Random(seed);
    return Buffer.from(Array.from({ length: n }, () => Math.floor(rng.next() * 256)));
  };
  const utf16 = (text: string, bom: boolean) =>
    Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(text, 'utf16le')]);

  for (const kind of ['baseline', 'batch'] as const) {
    it(`${kind}: random bytes, UTF-16 (with and without BOM), NUL bytes are refused with the reason`, async () => {
      await refused(kind, 'random.csv', random(20_000, 5), /not text|binary|UTF-8/);
      await refused(kind, 'utf16-bom.csv', utf16(csv(300, 6), true), /UTF-16/);
      await refused(kind, 'utf16.csv', utf16(csv(300, 6), false), /UTF-16|NUL/);
      await refused(kind, 'nul.csv', csv(300, 6).replace('eu', 'e\0u'), /NUL/);
    });
  }

  it('a baseline that shares no column with the previous one is refused', async () => {
    await refused(
      'baseline',
      'other.csv',
      csv(300, 7, ['a', 'b', 'c']),
      /shares no column.*x, y, region, churned/,
    );
  });

  it('a batch with more than maxSkippedRowShare of its rows skipped is degraded, with the counts', async () => {
    const lines = csv(600, 8).trimEnd().split('\n');
    const ragged = [lines[0], ...lines.slice(1).map((l, i) => (i % 3 === 0 ? l : `${l},extra`))].join('\n');
    const key = 'monitoring/churn/batches/ragged.csv';
    const record = await processBatch(deps, await upload(key, `${ragged}\n`));
    expect(record?.status).toBe('degraded');
    expect(record?.warnings?.join('\n')).toMatch(/400 of 600 rows skipped.*maxSkippedRowShare 0.05/);
    expect(record?.skippedRows).toBe(400);
    expect(await recordsOf(key)).toEqual([record]);
  });

  it('a crashed attempt leaves a lease that expires after the function timeout: the redelivery is processed', async () => {
    const key = 'monitoring/churn/batches/crashed.csv';
    const o = await upload(key, csv(300, 9));
    const t0 = new Date('2026-01-01T00:00:00Z');
    // the crashed attempt: the claim taken, then nothing (the process died)
    expect(await store.claimEvent(o.bucket, o.key, o.version, t0)).toBe(true);
    const at = (s: number) => ({ ...deps, clock: () => new Date(t0.getTime() + s * 1000) });
    expect(await processBatch(at(60), o)).toBeUndefined(); // still leased: a duplicate
    const record = await processBatch(at(16 * 60), o);
    expect(record?.status).toBe('ok');
    expect(await recordsOf(key)).toHaveLength(1);
    // done: a late duplicate, however late, is skipped
    expect(await processBatch(at(3 * 86_400), o)).toBeUndefined();
    expect(await recordsOf(key)).toHaveLength(1);
  });
});
