import '../../../local/polyfills.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftStore } from '../../../lambdas/adapters/drift/drift-store.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { monitoringRuntimeSchema } from '../../../lambdas/contracts/config-schema.js';
import type { ClientManifest } from '../../../lambdas/contracts/manifest.js';
import { manifestKey } from '../../../lambdas/contracts/s3-layout.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { processBaseline } from '../../../lambdas/services/monitoring/baseline.js';
import { processBatch } from '../../../lambdas/services/monitoring/batch-check.js';
import type { MonitoringDeps, UploadedObject } from '../../../lambdas/services/monitoring/deps.js';
import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../../support/emulators.js';

/**
 * The batch check's own decisions beyond distribution drift, on the emulators: the model's
 * live-performance thresholds alert on their own (once per batch, recorded on the drift record),
 * and a critical drift starts a retrain only when the config asks, once per cool-down.
 */

interface BatchShape {
  /** Mean of x (the baseline's is 0, σ 1): 4 makes the drift critical. */
  shift?: number;
  /** Labels that disagree with the predictions (same label rate, same prediction spread). */
  flipped?: boolean;
  /** Mean latency in ms (the baseline's is 100). */
  latencyMs?: number;
}

/** Seeded rows: features, a calibrated probability, its label, and the serving latency. */
function csv(rows: number, seed: number, shape: BatchShape = {}): string {
  const rng = new Random(seed);
  const out = ['x,y,region,churned,prediction,latency_ms'];
  for (let i = 0; i < rows; i++) {
    const p = rng.next();
    const hit = rng.next() < p;
    const label = (shape.flipped ? !hit : hit) ? 1 : 0;
    const region = ['eu', 'na', 'apac'][rng.choice([0.5, 0.3, 0.2])];
    out.push(
      `${rng.normal(shape.shift ?? 0, 1).toFixed(5)},${rng.normal(10, 2).toFixed(5)},${region},${label},${p.toFixed(5)},${rng.normal(shape.latencyMs ?? 100, 15).toFixed(1)}`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** What a calibrated U(0,1) probability scores on its own labels (the version's evaluation). */
const EVALUATION = { auc: 0.83, accuracy: 0.75, precision: 0.75, recall: 0.75, f1: 0.75, logLoss: 0.5 };

describe('batch check: live performance thresholds and drift-triggered retraining', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  let bucket: string;
  let table: string;
  let objects: S3Objects;
  const alerts: { subject: string; message: string }[] = [];
  const retrains: { model: string; reason: string }[] = [];
  let now = new Date('2030-03-01T00:00:00Z');
  let seq = 0;

  /** The service's deps with the monitoring config given (over the model's thresholds). */
  function depsWith(config: Record<string, unknown>): MonitoringDeps {
    return {
      store: new DriftStore(dynamo.doc, table),
      objects,
      bucket,
      config: monitoringRuntimeSchema.parse({
        models: {
          churn: {
            target: 'churned',
            exclude: [],
            performance: { maxDrop: { accuracy: 0.05, auc: 0.05 }, maxLatencyP95Ms: 250 },
          },
        },
        ...config,
      }),
      alerts: {
        publish: async (a) => {
          alerts.push(a);
          return { id: String(alerts.length) };
        },
      },
      retrain: async (model, reason) => {
        retrains.push({ model, reason });
        return `arn:aws:states:us-east-1:000000000000:execution:mlcycle-lifecycle:retrain-${retrains.length}`;
      },
      clock: () => now,
      parallel: { workers: 1 },
    };
  }

  const upload = async (name: string, body: string): Promise<UploadedObject> => {
    const key = `monitoring/churn/batches/${String(++seq).padStart(3, '0')}-${name}`;
    await objects.put({ bucket, key }, body);
    const head = await objects.head({ bucket, key });
    return { bucket, key, version: head?.etag ?? 'x' };
  };

  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
    bucket = await s3.newBucket();
    table = await dynamo.newTable();
    objects = new S3Objects(s3.local.client);
    const base = { bucket, key: 'monitoring/churn/baseline/base.csv' };
    await objects.put(base, csv(8_000, 1));
    const head = await objects.head(base);
    expect((await processBaseline(depsWith({}), { ...base, version: head?.etag ?? 'b' }))?.status).toBe('ok');
    const manifest: ClientManifest = {
      schema: 'mlcycle.manifest/v2',
      model: 'churn',
      stage: 'production',
      version: '1.3.0',
      download: {
        url: `https://cdn.test/downloads/churn/${'a'.repeat(64)}/model.json`,
        sha256: 'a'.repeat(64),
        size: 1,
      },
      metrics: EVALUATION,
      promotedAt: '2030-02-01T00:00:00Z',
      ledgerSeq: 1,
      previousVersion: null,
      action: 'promote',
    };
    await objects.put({ bucket, key: manifestKey('churn', 'production') }, JSON.stringify(manifest));
  });
  afterAll(async () => {
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  });

  describe('performance thresholds (models.churn.monitoring.performance)', () => {
    it('a batch like the baseline, performing like the evaluation, alerts nothing (the control)', async () => {
      const before = alerts.length;
      const record = await processBatch(depsWith({}), await upload('steady.csv', csv(3_000, 2)));
      expect(record?.overallSeverity).toBe('none');
      expect(record?.performanceBreaches).toBeUndefined();
      expect(record?.alerted).toBe(false);
      expect(alerts.length - before).toBe(0);
    });

    it('no distribution drift but accuracy and AUC fell: one alert naming each breach, recorded on the batch', async () => {
      const before = alerts.length;
      const o = await upload('flipped.csv', csv(3_000, 3, { flipped: true }));
      const record = await processBatch(depsWith({}), o);
      expect(record?.overallSeverity).toBe('none');
      expect(record?.alerted).toBe(true);
      expect(record?.performanceBreaches?.map((b) => b.metric).sort()).toEqual(['accuracy', 'auc']);
      const accuracy = record?.performanceBreaches?.find((b) => b.metric === 'accuracy');
      expect(accuracy).toMatchObject({ reference: 0.75, threshold: 0.05 });
      expect(accuracy?.value).toBeLessThan(0.4);
      expect(alerts.length - before).toBe(1);
      const alert = alerts.at(-1);
      expect(alert?.subject).toBe('[mlcycle] performance below thresholds (2): churn');
      expect(alert?.message).toContain(`s3://${bucket}/${o.key}`);
      expect(alert?.message).toMatch(
        /accuracy fell to 0\.\d+ from 0\.75 at the serving version's evaluation \(by 0\.\d+, more than models\.churn\.monitoring\.performance\.maxDrop\.accuracy 0\.05\)/,
      );
      expect(alert?.message).not.toMatch(/^Drift/m);
      // Stored as returned, and a redelivery alerts nothing more.
      const stored = (await depsWith({}).store.listRecords('churn', new Date(0))).find(
        (r) => r.batchKey === o.key,
      );
      expect(stored?.performanceBreaches).toEqual(record?.performanceBreaches);
      expect(await processBatch(depsWith({}), o)).toBeUndefined();
      expect(alerts.length - before).toBe(1);
    });

    it('latency p95 over maxLatencyP95Ms alerts on its own (latency is not drift)', async () => {
      const before = alerts.length;
      const record = await processBatch(
        depsWith({}),
        await upload('slow.csv', csv(3_000, 4, { latencyMs: 300 })),
      );
      expect(record?.overallSeverity).toBe('none');
      expect(record?.performanceBreaches).toEqual([
        { metric: 'latencyP95Ms', value: expect.any(Number), reference: null, threshold: 250 },
      ]);
      expect(record?.performanceBreaches?.[0]?.value).toBeGreaterThan(300);
      expect(alerts.length - before).toBe(1);
      expect(alerts.at(-1)?.message).toMatch(
        /p95 latency \d+(\.\d+)? ms is over models\.churn\.monitoring\.performance\.maxLatencyP95Ms 250 ms/,
      );
    });

    it('drift and a breach in the same batch: still one alert, saying both', async () => {
      const before = alerts.length;
      const record = await processBatch(
        depsWith({}),
        await upload('drifted-and-slow.csv', csv(3_000, 5, { shift: 4, latencyMs: 300 })),
      );
      expect(record?.overallSeverity).toBe('critical');
      expect(alerts.length - before).toBe(1);
      expect(alerts.at(-1)?.subject).toBe(
        '[mlcycle] drift critical, performance below thresholds (1): churn',
      );
      expect(alerts.at(-1)?.message).toMatch(/^Drift critical for churn/);
      expect(alerts.at(-1)?.message).toContain('p95 latency');
    });

    it('a batch under minSampleSize rows is not judged', async () => {
      const record = await processBatch(
        depsWith({}),
        await upload('few.csv', csv(150, 6, { flipped: true })),
      );
      expect(record?.performanceBreaches).toBeUndefined();
    });
  });

  describe('retrain on critical drift (monitoring.retrainOnCritical)', () => {
    const critical = (name: string, seed: number) => upload(name, csv(1_000, seed, { shift: 4 }));

    it('a critical batch starts a retrain; another within cooldownHours does not; one after it does', async () => {
      // The first retrain claim of this table: the batches above ran with retraining off.
      const d = () => depsWith({ retrainOnCritical: { enabled: true, cooldownHours: 6 } });
      retrains.length = 0;
      now = new Date('2030-03-02T00:00:00Z');

      const first = await processBatch(d(), await critical('c1.csv', 10));
      expect(first?.overallSeverity).toBe('critical');
      expect(retrains).toEqual([
        { model: 'churn', reason: expect.stringContaining('critical drift in monitoring/churn/batches/') },
      ]);
      expect(first?.retrainExecution).toBe(
        'arn:aws:states:us-east-1:000000000000:execution:mlcycle-lifecycle:retrain-1',
      );

      now = new Date('2030-03-02T05:59:00Z');
      const second = await processBatch(d(), await critical('c2.csv', 11));
      expect(second?.overallSeverity).toBe('critical');
      expect(second?.retrainExecution).toBeUndefined();
      expect(retrains).toHaveLength(1);

      // A batch that is not critical never retrains, cool-down or not.
      now = new Date('2030-03-02T07:00:00Z');
      const calm = await processBatch(d(), await upload('calm.csv', csv(1_000, 12)));
      expect(calm?.retrainExecution).toBeUndefined();
      expect(retrains).toHaveLength(1);

      const third = await processBatch(d(), await critical('c3.csv', 13));
      expect(third?.retrainExecution).toBe(
        'arn:aws:states:us-east-1:000000000000:execution:mlcycle-lifecycle:retrain-2',
      );
      expect(retrains).toHaveLength(2);
    });

    it('disabled (the default): a critical batch alerts and starts nothing', async () => {
      retrains.length = 0;
      const before = alerts.length;
      now = new Date('2030-03-05T00:00:00Z');
      const record = await processBatch(depsWith({}), await critical('c4.csv', 14));
      expect(record?.overallSeverity).toBe('critical');
      expect(record?.retrainExecution).toBeUndefined();
      expect(retrains).toEqual([]);
      expect(alerts.length - before).toBe(1);
    });
  });
});
