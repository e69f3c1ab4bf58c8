import '../../../local/polyfills.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftStore } from '../../../lambdas/adapters/drift/drift-store.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { monitoringRuntimeSchema } from '../../../lambdas/contracts/config-schema.js';
import { driftLatestKey, driftSummarySchema } from '../../../lambdas/contracts/drift-summary.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { processBaseline } from '../../../lambdas/services/monitoring/baseline.js';
import { processBatch } from '../../../lambdas/services/monitoring/batch-check.js';
import type { MonitoringDeps, UploadedObject } from '../../../lambdas/services/monitoring/deps.js';
import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../../support/emulators.js';

function csv(rows: number, seed: number, shift = 0): string {
  const rng = new Random(seed);
  const out = ['x,region,churned'];
  for (let i = 0; i < rows; i++)
    out.push(`${rng.normal(shift, 1).toFixed(4)},${['eu', 'na', 'apac'][i % 3]},${i % 3 === 0 ? 1 : 0}`);
  return `${out.join('\n')}\n`;
}

/** latest.json (reports/<model>/drift/latest.json) says what the batch's record says. */
describe('the latest drift summary', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  let deps: MonitoringDeps;
  let bucket: string;

  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
    bucket = await s3.newBucket();
    deps = {
      store: new DriftStore(dynamo.doc, await dynamo.newTable()),
      objects: new S3Objects(s3.local.client),
      bucket,
      config: monitoringRuntimeSchema.parse({ models: { churn: { target: 'churned', exclude: [] } } }),
      alerts: { publish: async () => ({ id: '1' }) },
      parallel: { workers: 0 },
    };
    expect(
      (await processBaseline(deps, await upload('monitoring/churn/baseline/b.csv', csv(3000, 1))))?.status,
    ).toBe('ok');
  });
  afterAll(async () => {
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  });

  const upload = async (key: string, body: string): Promise<UploadedObject> => {
    await deps.objects.put({ bucket, key }, body);
    const head = await deps.objects.head({ bucket, key });
    return { bucket, key, version: head?.etag ?? 'x' };
  };
  const latest = async () =>
    driftSummarySchema.parse(await deps.objects.getJson({ bucket, key: driftLatestKey('churn') }));

  it('a batch with too many rows skipped is `degraded` in latest.json too, with the warning and the batch id', async () => {
    const lines = csv(900, 2, 1).trimEnd().split('\n');
    const ragged = [lines[0], ...lines.slice(1).map((l, i) => (i % 3 === 0 ? l : `${l},extra`))].join('\n');
    const record = await processBatch(
      deps,
      await upload('monitoring/churn/batches/ragged.csv', `${ragged}\n`),
    );
    expect(record?.status).toBe('degraded');
    const summary = await latest();
    expect(summary.status).toBe('degraded');
    expect(summary.batchId).toBe(record?.batchId);
    expect(summary.warnings?.join('\n')).toMatch(/600 of 900 rows skipped/);
    expect(summary.reportUri).toBe(record?.reportUri);
  });

  it('per column, what was measured: raw KS or JS, its noise margin, the p-value, missing rates and their margin', async () => {
    const record = await processBatch(
      deps,
      await upload('monitoring/churn/batches/shifted.csv', csv(2000, 3, 0.5)),
    );
    expect(record?.status).toBe('ok');
    const summary = await latest();
    expect(summary.status).toBe('ok');
    expect(summary.warnings).toBeUndefined();
    const x = summary.features.find((f) => f.name === 'x');
    expect(x?.severity).not.toBe('none');
    expect(x?.measured?.ks).toBeGreaterThan(0.15);
    expect(x?.measured?.ksNoiseMargin).toBeCloseTo(1.8 * Math.sqrt(5000 / 6_000_000), 3);
    expect(x?.measured?.pValueTest).toBe('ks');
    expect(x?.measured?.pValue).toBeLessThan(1e-10);
    expect(x?.measured?.missingPercent).toEqual({ baseline: 0, batch: 0, noiseMargin: 0 });
    const region = summary.features.find((f) => f.name === 'region');
    expect(region?.measured?.jensenShannon).toBeGreaterThanOrEqual(0);
    expect(region?.measured?.jensenShannonNoiseMargin).toBeGreaterThan(0);
    expect(region?.measured?.pValueTest).toBe('chi-square');
    // the same figures as the record the CLI reads
    expect(summary.features.map((f) => f.measured)).toEqual(record?.features.map((f) => f.measured));
  });

  it('summaries written before these fields still parse (readers see them as absent)', () => {
    const old = {
      model: 'churn',
      batchKey: 'monitoring/churn/batches/b1.csv',
      checkedAt: '2030-01-01T00:00:00.000Z',
      status: 'ok',
      overallSeverity: 'medium',
      driftedShare: 0.25,
      rows: 1000,
      features: [{ name: 'sessions', kind: 'numeric', method: 'psi', score: 0.2, severity: 'medium' }],
      reportUri: 's3://b/reports/churn/drift/r.html',
    };
    const parsed = driftSummarySchema.parse(old);
    expect(parsed.features[0]?.measured).toBeUndefined();
    expect(parsed.batchId).toBeUndefined();
    expect(() => driftSummarySchema.parse({ ...old, status: 'sideways' })).toThrow(/status/);
  });
});
