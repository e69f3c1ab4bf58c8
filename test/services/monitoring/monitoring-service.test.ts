import '../../../local/polyfills.js';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftStore } from '../../../lambdas/adapters/drift/drift-store.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { monitoringRuntimeSchema } from '../../../lambdas/contracts/config-schema.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { processBaseline } from '../../../lambdas/services/monitoring/baseline.js';
import { processBatch } from '../../../lambdas/services/monitoring/batch-check.js';
import type { MonitoringDeps, UploadedObject } from '../../../lambdas/services/monitoring/deps.js';

import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../../support/emulators.js';

function csv(rows: number, seed: number, shift: number): string {
  const rng = new Random(seed);
  const out = ['x,y,region,churned'];
  for (let i = 0; i < rows; i++) {
    out.push(
      `${rng.normal(shift, 1).toFixed(5)},${rng.normal(10, 2).toFixed(5)},${['eu', 'na', 'apac'][rng.choice([0.5, 0.3, 0.2])]},${rng.next() < 0.3 ? 1 : 0}`,
    );
  }
  return `${out.join('\n')}\n`;
}

describe('monitoring service on the emulators', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  let deps: MonitoringDeps;
  let bucket: string;
  const alerts: { subject: string; message: string }[] = [];
  const stages: string[] = [];

  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
    bucket = await s3.newBucket();
    deps = {
      store: new DriftStore(dynamo.doc, await dynamo.newTable()),
      objects: new S3Objects(s3.local.client),
      bucket,
      config: monitoringRuntimeSchema.parse({ models: { churn: { target: 'churned', exclude: [] } } }),
      alerts: {
        publish: async (a) => {
          alerts.push(a);
          return { id: String(alerts.length) };
        },
      },
      // small parts and blocks, so these small files take the paths of large ones: uncompressed
      // objects in byte ranges that worker threads read with their own ranged GETs, gzip in blocks
      parallel: {
        workers: 2,
        blockBytes: 64 << 10,
        minRangeBytes: 0,
        partBytes: 64 << 10,
        onStage: (stage) => stages.push(stage),
      },
    };
  });
  afterAll(async () => {
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  });

  const upload = async (key: string, body: string | Buffer): Promise<UploadedObject> => {
    await deps.objects.put({ bucket, key }, body);
    const head = await deps.objects.head({ bucket, key });
    return { bucket, key, version: head?.etag ?? 'x' };
  };

  it('a batch with no baseline gives an error record and an alert, not a retry loop', async () => {
    const o = await upload('monitoring/churn/batches/early.csv', csv(500, 1, 0));
    const record = await processBatch(deps, o);
    expect(record?.status).toBe('error');
    expect(record?.error).toMatch(/no baseline for churn/);
    expect(alerts.at(-1)?.subject).toMatch(/could not be processed/);
  });

  it('profiles a baseline, then flags a shifted gzip batch once, even when the event is delivered twice', async () => {
    const base = await upload('monitoring/churn/baseline/base.csv', csv(20_000, 2, 0));
    stages.length = 0;
    const baseRecord = await processBaseline(deps, base);
    expect(baseRecord?.status).toBe('ok');
    expect(baseRecord?.rows).toBe(20_000);
    expect(stages).toEqual(['sniff', 'parts', 'merge']); // read in byte ranges by the workers

    const before = alerts.length;
    const o = await upload('monitoring/churn/batches/day1.csv.gz', gzipSync(csv(5_000, 3, 1)));
    const [first, second] = await Promise.all([processBatch(deps, o), processBatch(deps, o)]);
    const records = [first, second].filter(Boolean);
    expect(records).toHaveLength(1);
    const record = records[0];
    expect(record?.status).toBe('ok');
    expect(record?.rows).toBe(5_000);
    expect(record?.features.find((f) => f.name === 'x')?.severity).toBe('high');
    expect(record?.features.find((f) => f.name === 'y')?.severity).toBe('none');
    expect(record?.alerted).toBe(true);
    // a third delivery, later, is a no-op too
    expect(await processBatch(deps, o)).toBeUndefined();
    expect(alerts.length - before).toBe(1);
    const stored = (await deps.store.listRecords('churn', new Date(0))).filter((r) => r.batchKey === o.key);
    expect(stored).toHaveLength(1);
    const html = await deps.objects.getText({
      bucket,
      key: (record?.reportUri ?? '').replace(`s3://${bucket}/`, ''),
    });
    expect(html).toMatch(/<svg/);
  });

  const badCases: [string, string | Buffer, RegExp][] = [
    ['unsupported.parquet', 'x,y\n1,2\n', /unsupported extension/],
    ['empty.csv', '', /the file is empty/],
    ['header-only.csv', 'x,y,region,churned\n', /header but no data rows/],
    ['broken.csv.gz', Buffer.from('definitely not gzip'), /not valid gzip/],
  ];
  for (const [name, body, pattern] of badCases) {
    it(`${name}: an error record with a clear message and one alert`, async () => {
      const before = alerts.length;
      const o = await upload(`monitoring/churn/batches/${name}`, body);
      const record = await processBatch(deps, o);
      expect(record?.status).toBe('error');
      expect(record?.error).toMatch(pattern);
      expect(alerts.length - before).toBe(1);
      const stored = (await deps.store.listRecords('churn', new Date(0))).filter((r) => r.batchKey === o.key);
      expect(stored.map((r) => r.status)).toEqual(['error']);
    });
  }

  it('columns missing and added, ragged rows and a BOM/CRLF JSON Lines batch still give a result', async () => {
    const rng = new Random(5);
    const rows = ['\uFEFFx,region,churned,extra'];
    for (let i = 0; i < 1_000; i++) rows.push(`${rng.normal(0, 1).toFixed(4)},eu,0,${i}`);
    rows.push('1,2');
    const o = await upload('monitoring/churn/batches/schema.csv', rows.join('\r\n'));
    const record = await processBatch(deps, o);
    expect(record?.status).toBe('ok');
    expect(record?.features.find((f) => f.name === 'y')?.severity).toBe('critical');
    const result = await deps.objects.getJson<{ warnings: string[]; addedColumns: string[] }>({
      bucket,
      key: (record?.resultUri ?? '').replace(`s3://${bucket}/`, ''),
    });
    expect(result.addedColumns).toEqual(['extra']);
    expect(result.warnings.join('\n')).toMatch(/1 rows skipped: wrong number of fields/);

    const jsonl = Array.from({ length: 1_000 }, (_, i) =>
      JSON.stringify({ x: (i % 50) / 10, y: 10, region: 'eu', churned: 0 }),
    );
    const j = await upload('monitoring/churn/batches/day2.jsonl', `${jsonl.join('\n')}\n`);
    const jr = await processBatch(deps, j);
    expect(jr?.status).toBe('ok');
    expect(jr?.rows).toBe(1_000);
  });
});
