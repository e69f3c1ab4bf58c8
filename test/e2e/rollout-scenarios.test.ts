import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalLinkIn, readOutbox } from '../../bin/cli/demo-approver.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { ENV } from '../../lambdas/contracts/env.js';
import { rolloutStatusBase } from '../../lambdas/contracts/s3-layout.js';
import type { Lineage } from '../../lambdas/domain/registry/types.js';
import { ROLLOUT_GUARD } from '../../lambdas/services/monitoring/rollout-check.js';
import { startRollout } from '../../lambdas/services/rollouts/start.js';
import { churnCsv } from '../../local/data/churn.js';
import { type RolloutArm, rolloutBatchCsv } from '../../local/data/rollout-batch.js';
import { runCli } from '../support/cli.js';
import { startTestStack, type TestStack, testConfig } from '../support/local-stack.js';
import { SAME, simpleScore } from '../support/rollout-evidence.js';

/**
 * The "Done when", on the embedded default: 1.0.0 serves production, a 10 % canary of
 * 1.1.0 runs, and seeded monitoring batches are uploaded to the local S3, whose notifications run
 * the drift handler. (a) The canary errs five times as often: the rollout aborts by itself, with a
 * ledger entry holding the decision and an alert in the outbox. (b) The canary converts better:
 * its promotion is asked for through the pipeline, and the approval email's page shows the
 * rollout's evidence. The rollouts are started as Deploy starts them once approved (the versions
 * here are registered without training, so no execution validates them first).
 */
const ROLLOUT = {
  policy: {
    primary: { metric: 'converted', type: 'rate', minimumEffect: 0.02 },
    guardrails: [
      { kind: 'rate-increase', rate: 'error', maxIncrease: 0.01 },
      { kind: 'latency-p95', maxMs: 120 },
    ],
  },
  columns: { latencyMs: 'latency_ms', error: 'error', outcomes: { converted: 'rate' } },
};

/** A version's artifact (its bytes stored under runs/, as training leaves them). */
const artifactOf = (v: string) => `{"model":"churn","version":"${v}"}`;
const lineage = (bucket: string, v: string): Lineage => ({
  parentVersion: null,
  datasetUri: `s3://${bucket}/datasets/churn/churn.csv`,
  datasetSha256: 'a'.repeat(64),
  codeVersion: 'abc',
  runId: `run-${v}`,
  hyperparameters: {},
  framework: 'mlcycle-logreg@1.0.0',
  artifactUri: `s3://${bucket}/runs/churn/run-${v}/model.json`,
  artifactSha256: createHash('sha256').update(artifactOf(v)).digest('hex'),
  author: 'dev@studio.test',
});

describe('rollout scenarios against a local stack', () => {
  let t: TestStack;
  let registry: Registry;
  let objects: S3Objects;
  let bucket: string;
  let day = 0;

  beforeAll(async () => {
    const base = testConfig();
    const churn = base.models.churn as unknown as Record<string, unknown>;
    t = await startTestStack(
      testConfig({
        models: {
          churn: {
            target: 'churned',
            exclude: ['player_id'],
            training: churn.training,
            schedule: { stage: 'staging' },
            rollout: ROLLOUT,
          },
        },
      }),
    );
    registry = new Registry(createDocumentClient(t.stack.dynamo.client), t.stack.endpoints.tableName);
    objects = new S3Objects(t.stack.s3.client);
    bucket = t.stack.endpoints.bucket;
    for (const v of ['1.0.0', '1.1.0']) {
      await objects.put({ bucket, key: `runs/churn/run-${v}/model.json` }, artifactOf(v));
      await registry.versions.registerVersion({
        model: 'churn',
        version: v,
        lineage: lineage(bucket, v),
        metrics: { auc: 0.8 },
      });
    }
    await registry.stages.promote({
      model: 'churn',
      stage: 'production',
      version: '1.0.0',
      actor: 'ana@studio.test',
      reason: 'first release',
      action: 'promote',
    });
    await objects.put(
      { bucket, key: 'monitoring/churn/baseline/players.csv' },
      churnCsv({ rows: 6000, seed: 1, extraColumns: { score: simpleScore } }),
    );
    await t.stack.notifications.idle();
    expect(t.stack.notifications.failures).toEqual([]);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  /** A 10 % canary of 1.1.0, as Deploy starts it once the stage's approvals are in (manifest included). */
  async function startCanary(): Promise<string> {
    const clientBaseUrl = String(t.stack.functionEnv.values[ENV.clientBaseUrl]);
    const { record, published } = await startRollout(
      { registry, objects, bucket, clientBaseUrl },
      {
        model: 'churn',
        stage: 'production',
        version: '1.1.0',
        percent: 10,
        actor: 'ana@studio.test',
        reason: '10 % canary',
        approval: null,
      },
    );
    expect(published?.manifest.rollout?.variants.map((v) => [v.name, v.version, v.weight])).toEqual([
      ['canary', '1.1.0', 1000],
      ['control', '1.0.0', 9000],
    ]);
    return record.rolloutId;
  }

  /** The client manifest as a game client gets it from the local API. */
  async function manifest(): Promise<{ version: string; rollout?: unknown }> {
    const res = await fetch(`${t.stack.endpoints.api}models/churn/production`);
    expect(res.status).toBe(200);
    return (await res.json()) as { version: string; rollout?: unknown };
  }

  /** Uploads one day's batch (the drift handler runs on it) and waits for the handler. */
  async function uploadDay(rolloutId: string, canary: RolloutArm): Promise<void> {
    day++;
    const record = await registry.rollouts.get('churn', rolloutId);
    await objects.put(
      { bucket, key: `monitoring/churn/batches/day-${day}.csv` },
      rolloutBatchCsv({
        rows: 4000,
        seed: 1000 + day,
        rolloutId,
        variants: record?.steps.at(-1)?.variants ?? [],
        arms: { canary, control: SAME },
        score: simpleScore,
      }),
    );
    await t.stack.notifications.idle();
    expect(t.stack.notifications.failures).toEqual([]);
  }

  it('(a) a canary worse on a guardrail is aborted by itself: ledger entry with the evidence, alert, status page', async () => {
    const rolloutId = await startCanary();
    expect((await manifest()).rollout).toMatchObject({ rolloutId });
    const alertsBefore = readOutbox(t.stack.endpoints.outboxDir).length;
    for (let b = 0; b < 6; b++) {
      await uploadDay(rolloutId, { ...SAME, errorRate: 0.05 });
      if ((await registry.rollouts.get('churn', rolloutId))?.status !== 'active') break;
    }
    const record = await registry.rollouts.get('churn', rolloutId);
    expect(record?.status).toBe('aborted');
    expect(record?.ended).toMatchObject({ kind: 'auto-abort', actor: ROLLOUT_GUARD });
    expect(await registry.rollouts.active('churn', 'production')).toBeUndefined();
    const entry = (await registry.stages.history('churn', { stage: 'production' })).find(
      (e) => e.evidence.rollout?.rolloutId === rolloutId && e.evidence.rollout?.event === 'auto-abort',
    );
    expect(entry?.actor).toBe(ROLLOUT_GUARD);
    expect(entry?.reason).toMatch(/automatic abort: canary: error rose by/);
    expect(JSON.stringify(entry?.evidence.rollout?.decision)).toContain('"action":"rollback"');
    // what serves did not move: the control serves production, and every client gets it again
    expect((await registry.stages.getStage('churn', 'production'))?.version).toBe('1.0.0');
    const after = await manifest();
    expect(after.version).toBe('1.0.0');
    expect(after.rollout).toBeUndefined();
    const alert = readOutbox(t.stack.endpoints.outboxDir)
      .slice(alertsBefore)
      .find((m) => m.subject.includes(`rollout ${rolloutId} of churn production aborted automatically`));
    expect(alert?.text).toMatch(/canary: error rose by [\d.]+ \[[\d.]+, [\d.]+\] against the control/);
    const page = await objects.getText({ bucket, key: `${rolloutStatusBase('churn', rolloutId)}.html` });
    expect(page).toContain('Decision: roll back');
    // `mlcycle rollout status` tells how it ended and where the page is
    const configFile = join(t.stack.dir, 'scenario-config.json');
    writeFileSync(configFile, JSON.stringify(t.config));
    const status = await runCli(t.stack.dir, ['rollout', 'status', 'churn', '--stage', 'production'], {
      config: configFile,
    });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`(auto-abort: automatic abort: canary: error rose by`);
    // …a link the local gateway serves (a presigned URL on AWS), as inert HTML
    const link = new RegExp(
      `page: (http://\\S+/${rolloutStatusBase('churn', rolloutId).replace(/\./g, '\\.')}\\.html)`,
    ).exec(status.stdout)?.[1];
    expect(link, status.stdout).toBeDefined();
    const served = await fetch(link ?? '');
    expect(served.status).toBe(200);
    expect(served.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await served.text()).toContain('Decision: roll back');
  }, 180_000);

  it('(b) a canary better on the primary metric ends in a promotion request whose approval page shows the evidence', async () => {
    const rolloutId = await startCanary();
    for (let b = 0; b < 8; b++) {
      await uploadDay(rolloutId, { ...SAME, conversion: 0.2 });
      if ((await registry.rollouts.get('churn', rolloutId))?.promotionRequest) break;
    }
    const record = await registry.rollouts.get('churn', rolloutId);
    expect(record?.status).toBe('active');
    expect(record?.promotionRequest?.executionName).toMatch(/^churn-production-promote-1-1-0-/);
    // the promotion goes through the stage's approvals: an email with the link arrives
    let link: string | undefined;
    for (let i = 0; i < 300 && !link; i++) {
      link = readOutbox(t.stack.endpoints.outboxDir)
        .filter((m) => m.subject.includes('1.1.0'))
        .map((m) => approvalLinkIn(m.text))
        .find(Boolean);
      if (!link) await new Promise((r) => setTimeout(r, 100));
    }
    expect(link, 'an approval email for 1.1.0').toBeTruthy();
    const res = await fetch(link as string);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`Rollout ${rolloutId}: the evidence behind this request`);
    expect(html).toContain('Decision: promote (canary)');
    expect(html).toMatch(/canary: converted beats control: 0\.\d+ \[0\.\d+, 0\.\d+\], p = /);
    expect(html).toContain('Sample-ratio check');
    expect(html).toMatch(/aria-label="converted per variant"/);
    // later batches ask for nothing more
    await uploadDay(rolloutId, { ...SAME, conversion: 0.2 });
    expect((await registry.rollouts.get('churn', rolloutId))?.promotionRequest).toEqual(
      record?.promotionRequest,
    );
  }, 240_000);
});
