import '../../../local/polyfills.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DriftStore } from '../../../lambdas/adapters/drift/drift-store.js';
import { Registry } from '../../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { monitoringRuntimeSchema } from '../../../lambdas/contracts/config-schema.js';
import { rolloutStatusBase } from '../../../lambdas/contracts/s3-layout.js';
import type { Lineage } from '../../../lambdas/domain/registry/types.js';
import { processBaseline } from '../../../lambdas/services/monitoring/baseline.js';
import { processBatch } from '../../../lambdas/services/monitoring/batch-check.js';
import type { MonitoringDeps, UploadedObject } from '../../../lambdas/services/monitoring/deps.js';
import { ROLLOUT_GUARD, type RolloutSettings } from '../../../lambdas/services/monitoring/rollout-check.js';
import { churnCsv } from '../../../local/data/churn.js';
import { type RolloutArm, rolloutBatchCsv } from '../../../local/data/rollout-batch.js';
import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../../support/emulators.js';
import {
  BATCH_COLUMNS,
  CANARY_POLICY,
  CANARY_VARIANTS,
  SAME,
  simpleScore,
} from '../../support/rollout-evidence.js';

/**
 * Monitoring batches of a 10 % canary on the emulators: each batch's rows per variant are merged
 * into the rollout record and decided on with the deployed policy; a guardrail breach aborts the
 * rollout by itself (ledger entry with the decision, one alert), a better canary asks for its
 * promotion once, and a batch that is not fit evidence changes nothing of the rollout.
 */

const lineage = (v: string): Lineage => ({
  parentVersion: null,
  datasetUri: 's3://b/datasets/churn/d.csv',
  datasetSha256: 'a'.repeat(64),
  codeVersion: 'abc',
  runId: `run-${v}`,
  hyperparameters: {},
  framework: 'mlcycle-logreg@1.0.0',
  artifactUri: `s3://b/runs/churn/run-${v}/model.json`,
  artifactSha256: 'b'.repeat(64),
  author: 'dev@studio.test',
});

const { label: _l, prediction: _p, ...columns } = BATCH_COLUMNS;
const SETTINGS: RolloutSettings = { policy: CANARY_POLICY, columns };

describe('rollout evidence from monitoring batches', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  let bucket: string;
  let objects: S3Objects;
  let table: string;
  let registry: Registry;
  let rolloutId: string;
  let seq = 0;
  const alerts: { subject: string; message: string }[] = [];
  const promotions: { model: string; stage: string; version: string; reason: string }[] = [];

  function deps(settings: RolloutSettings | null = SETTINGS): MonitoringDeps {
    return {
      store: new DriftStore(dynamo.doc, table),
      objects,
      bucket,
      config: monitoringRuntimeSchema.parse({
        models: { churn: { target: 'churned', exclude: ['player_id'], performance: {} } },
      }),
      alerts: {
        publish: async (a) => {
          alerts.push(a);
          return { id: String(alerts.length) };
        },
      },
      parallel: { workers: 1 },
      rollouts: {
        store: registry.rollouts,
        settings: (model) => (model === 'churn' && settings ? settings : undefined),
        abort: (a) =>
          registry.rollouts.end(
            a.model,
            a.stage,
            a.expectedRevision,
            { at: new Date().toISOString(), actor: ROLLOUT_GUARD, reason: a.reason, kind: 'auto-abort' },
            { decision: a.evidence },
          ),
        requestPromotion: async (p) => {
          promotions.push(p);
          return { executionName: `churn-production-promote-${promotions.length}` };
        },
      },
    };
  }

  const upload = async (body: string): Promise<UploadedObject> => {
    const key = `monitoring/churn/batches/${String(++seq).padStart(3, '0')}.csv`;
    await objects.put({ bucket, key }, body);
    return { bucket, key, version: (await objects.head({ bucket, key }))?.etag ?? 'x' };
  };
  const batch = (seed: number, canary: RolloutArm, over: { reportVersion?: boolean } = {}) =>
    rolloutBatchCsv({
      rows: 4000,
      seed,
      rolloutId,
      variants: CANARY_VARIANTS,
      arms: { canary, control: SAME },
      score: simpleScore,
      ...over,
    });

  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
    bucket = await s3.newBucket();
    objects = new S3Objects(s3.local.client);
  });
  afterAll(async () => {
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  });
  beforeEach(async () => {
    table = await dynamo.newTable();
    registry = new Registry(dynamo.doc, table);
    for (const v of ['1.0.0', '1.1.0']) {
      await registry.versions.registerVersion({
        model: 'churn',
        version: v,
        lineage: lineage(v),
        metrics: { auc: 0.8 },
      });
    }
    const { seq: ledgerSeq } = await registry.stages.promote({
      model: 'churn',
      stage: 'production',
      version: '1.0.0',
      actor: 'ana@studio.test',
      reason: 'first',
      action: 'promote',
    });
    const started = await registry.rollouts.start({
      model: 'churn',
      stage: 'production',
      canaryVersion: '1.1.0',
      controlVersion: '1.0.0',
      ledgerSeq,
      variants: CANARY_VARIANTS,
      actor: 'ana@studio.test',
      reason: '10 % canary',
      approval: null,
    });
    rolloutId = started.record.rolloutId;
    const base = { bucket, key: 'monitoring/churn/baseline/base.csv' };
    await objects.put(base, churnCsv({ rows: 6000, seed: 1, extraColumns: { score: simpleScore } }));
    const head = await objects.head(base);
    expect((await processBaseline(deps(), { ...base, version: head?.etag ?? 'b' }))?.status).toBe('ok');
    alerts.length = 0;
    promotions.length = 0;
  });

  it('a canary that errs five times as often is aborted by itself: ledger entry with the decision, one alert, status page', async () => {
    let aborted = false;
    for (let b = 0; b < 6 && !aborted; b++) {
      const record = await processBatch(deps(), await upload(batch(200 + b, { ...SAME, errorRate: 0.05 })));
      expect(record?.status).not.toBe('error');
      aborted = (await registry.rollouts.get('churn', rolloutId))?.status === 'aborted';
    }
    expect(aborted).toBe(true);
    const ended = await registry.rollouts.get('churn', rolloutId);
    expect(ended?.ended).toMatchObject({ kind: 'auto-abort', actor: ROLLOUT_GUARD });
    expect(ended?.ended?.reason).toMatch(
      /^automatic abort: canary: error rose by 0\.0\d+ \[0\.0\d+, 0\.\d+\]/,
    );
    const entry = (await registry.stages.history('churn')).find(
      (e) => e.evidence.rollout?.event === 'auto-abort',
    );
    const evidence = entry?.evidence.rollout?.decision as { decision: { action: string; tests: unknown[] } };
    expect(evidence.decision.action).toBe('rollback');
    expect(evidence.decision.tests.length).toBeGreaterThan(0);
    const abortAlerts = alerts.filter((a) => a.subject.includes('aborted automatically'));
    expect(abortAlerts).toHaveLength(1);
    expect(abortAlerts[0]?.message).toMatch(
      /- canary: error rose by .* more than \+0\.0100 with significance, p = /,
    );
    const page = await objects.getText({ bucket, key: `${rolloutStatusBase('churn', rolloutId)}.html` });
    expect(page).toContain('Decision: roll back');
    expect(page).toContain('state aborted');
    // a later batch adds nothing to an ended rollout, and alerts nothing more
    await processBatch(deps(), await upload(batch(300, { ...SAME, errorRate: 0.05 })));
    expect((await registry.rollouts.get('churn', rolloutId))?.batches).toEqual(ended?.batches);
    expect(alerts.filter((a) => a.subject.includes('aborted automatically'))).toHaveLength(1);
    expect(await registry.rollouts.activeForModel('churn')).toEqual([]);
  });

  it('a canary that converts better asks for its promotion once, through the pipeline, and keeps serving meanwhile', async () => {
    for (let b = 0; b < 8 && promotions.length === 0; b++) {
      await processBatch(
        deps(),
        await upload(batch(400 + b, { ...SAME, conversion: 0.2 }, { reportVersion: true })),
      );
    }
    expect(promotions).toEqual([
      {
        model: 'churn',
        stage: 'production',
        version: '1.1.0',
        reason: expect.stringMatching(/converted beats control/),
      },
    ]);
    const record = await registry.rollouts.get('churn', rolloutId);
    expect(record?.status).toBe('active');
    expect(record?.promotionRequest?.executionName).toBe('churn-production-promote-1');
    await processBatch(deps(), await upload(batch(500, { ...SAME, conversion: 0.2 })));
    expect(promotions).toHaveLength(1);
    const page = await objects.getText({ bucket, key: `${rolloutStatusBase('churn', rolloutId)}.html` });
    expect(page).toContain('Decision: promote (canary)');
    expect(page).toContain('Promotion of 1.1.0 requested');
  });

  it('an abort whose publication failed is finished when the batch is delivered again: republished, alerted', async () => {
    const republished: string[] = [];
    let failures = 1;
    const flaky = (): MonitoringDeps => {
      const d = deps();
      const guard = d.rollouts;
      if (!guard) throw new Error('no guard');
      return {
        ...d,
        rollouts: {
          ...guard,
          abort: async (a) => {
            await guard.abort(a); // the record ends (and its ledger entry is written) …
            if (failures-- > 0) throw new Error('S3 unavailable'); // … then publishing the manifest fails
          },
          republish: async (r) => {
            republished.push(r.rolloutId);
          },
        },
      };
    };
    let aborting: UploadedObject | undefined;
    for (let b = 0; b < 6 && !aborting; b++) {
      const o = await upload(batch(1200 + b, { ...SAME, errorRate: 0.05 }));
      const done = await processBatch(flaky(), o).then(
        () => false,
        (err: Error) => err.message === 'S3 unavailable',
      );
      if (done) aborting = o;
    }
    expect(aborting, 'a batch whose abort failed after ending the record').toBeDefined();
    expect((await registry.rollouts.get('churn', rolloutId))?.status).toBe('aborted');
    expect(alerts.filter((a) => a.subject.includes('aborted automatically'))).toHaveLength(0);
    // Lambda delivers the event again (the claim was given back): the abort is finished
    const o = aborting as UploadedObject;
    await processBatch(flaky(), o);
    expect(republished).toEqual([rolloutId]);
    const alert = alerts.filter((a) => a.subject.includes('aborted automatically'));
    expect(alert).toHaveLength(1);
    expect(alert[0]?.message).toMatch(/- canary: error rose by/);
    // another batch afterwards finishes nothing more
    await processBatch(flaky(), await upload(batch(1300, SAME)));
    expect(republished).toHaveLength(1);
  });

  it('merges each batch once: the same batch id a second time changes nothing', async () => {
    const o = await upload(batch(600, SAME));
    await processBatch(deps(), o);
    const once = await registry.rollouts.get('churn', rolloutId);
    expect(once?.batches).toHaveLength(1);
    // a redelivery the claim lets through (a crash after the evidence was stored) adds nothing
    await new DriftStore(dynamo.doc, table).releaseEvent(o.bucket, o.key, o.version);
    await processBatch(deps(), o);
    expect(await registry.rollouts.get('churn', rolloutId)).toMatchObject({
      revision: once?.revision,
      batches: once?.batches,
    });
  });

  it('refuses a batch where more than 1 % of rows name no variant of the rollout: alert, warning, nothing stored', async () => {
    const rows = batch(700, SAME).replace(/,canary,/g, ',treatment-b,');
    const record = await processBatch(deps(), await upload(rows));
    expect(record?.warnings?.join('\n')).toMatch(
      /rows \(\d+\.\d %\) have a variant the rollout does not have \("treatment-b" ×\d+\)/,
    );
    expect(alerts.some((a) => a.subject.includes('rollout evidence refused'))).toBe(true);
    expect(await registry.rollouts.get('churn', rolloutId)).toMatchObject({ revision: 0, batches: [] });
  });

  it('the weights come from the rollout record: a batch whose canary has half the players is a sample-ratio mismatch', async () => {
    // every other control row relabelled canary: the batch "says" 50/50, the record says 10/90
    let i = 0;
    const rows = batch(800, SAME).replace(/,control,/g, (m) => (i++ % 2 ? ',canary,' : m));
    await processBatch(deps(), await upload(rows));
    const record = await registry.rollouts.get('churn', rolloutId);
    expect(record?.status).toBe('aborted');
    expect(record?.ended?.reason).toMatch(/sample ratio mismatch/);
  });

  it('no rollout columns in the deployed config, or no variant column in the batch: the rollout is not touched', async () => {
    await processBatch(deps(null), await upload(batch(900, SAME)));
    await processBatch(
      deps(),
      await upload(churnCsv({ rows: 3000, seed: 9, extraColumns: { score: simpleScore } })),
    );
    expect(await registry.rollouts.get('churn', rolloutId)).toMatchObject({ revision: 0, batches: [] });
  });
});
