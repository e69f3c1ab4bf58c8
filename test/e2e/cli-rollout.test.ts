import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mlcycleAssign } from '../../clients/typescript/mlcycle-assign.js';
import { runTraining } from '../../containers/trainer/src/train-job.js';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { parseS3Uri, S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { type ClientManifest, clientManifestSchema } from '../../lambdas/contracts/manifest.js';
import { churnCsv } from '../../local/data/churn.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import { DEFAULT_CONFIG as CONFIG, errorLines, ROOT, runCli } from '../support/cli.js';

const LEAD = 'ml-lead@studio.example';

/**
 * `mlcycle rollout` as a user runs it against a running local stack: promote v1, start a 10 %
 * canary of v2 (approved by the stage's approver), ramp it to 25 %, read the status and the
 * manifest's rollout block, abort; the manifest goes back to v1 alone and the ledger tells it all.
 */
describe('mlcycle rollout (CLI) against a running local stack', () => {
  let dir: string;
  let stack: LocalStack;
  let registry: Registry;
  let approvals: ApprovalStore;
  let versions: { v1: string; v2: string } | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-rollout-'));
    const raw = parse(readFileSync(CONFIG, 'utf8')) as { environments: Record<string, unknown> };
    // No gates (external versions have reported metrics only); the lead approves and may roll back.
    raw.environments.sandbox = { approvers: [LEAD], quorum: 1 };
    stack = await startLocalStack({ config: parseConfig(raw), dir, root: ROOT, fresh: true });
    const doc = createDocumentClient(stack.dynamo.client);
    registry = new Registry(doc, stack.endpoints.tableName);
    approvals = new ApprovalStore(doc, stack.endpoints.tableName);
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(dir, args, { config: CONFIG });
  const manifestUrl = () => `${stack.endpoints.api.replace(/\/+$/, '')}/models/churn/sandbox`;
  const manifest = async (): Promise<ClientManifest> => {
    const res = await fetch(manifestUrl());
    expect(res.status).toBe(200);
    return clientManifestSchema.parse(await res.json());
  };

  async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 90_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Trains the reference model elsewhere and registers its artifact from outside. */
  async function externalVersion(seed: number): Promise<string> {
    const bucket = stack.endpoints.bucket;
    const objects = new S3Objects(stack.s3.client);
    const datasetUri = `s3://${bucket}/datasets/churn/churn-${seed}.csv`;
    await objects.put(parseS3Uri(datasetUri), churnCsv({ rows: 1200, seed }), 'text/csv');
    const summary = await runTraining(
      {
        MLCYCLE_MODEL: 'churn',
        MLCYCLE_RUN_ID: `offline-${seed}`,
        MLCYCLE_DATASET_URI: datasetUri,
        MLCYCLE_OUTPUT_URI: `s3://${bucket}/scratch/offline-${seed}/`,
        MLCYCLE_HYPERPARAMETERS: JSON.stringify({ epochs: 5, learningRate: 0.1, l2: 0.001, seed }),
        MLCYCLE_TARGET: 'churned',
        MLCYCLE_CODE_VERSION: 'c0ffee1',
        MLCYCLE_EXCLUDE: 'player_id',
        MLCYCLE_HOLDOUT_FRACTION: 0.2,
      },
      { s3: stack.s3.client },
    );
    const body = await objects.getBytes(parseS3Uri(summary.artifactUri));
    const artifact = `s3://${bucket}/runs/churn/external-${seed}/model.json`;
    await objects.put(parseS3Uri(artifact), body, 'application/json');
    const sha = createHash('sha256').update(body).digest('hex');
    const metrics = '{"auc":0.8,"accuracy":0.74,"precision":0.6,"recall":0.55,"f1":0.57,"logLoss":0.5}';
    const reg = await cli(
      'models',
      'register',
      'churn',
      '--artifact',
      artifact,
      '--sha256',
      sha,
      '--metrics',
      metrics,
      '--dataset',
      datasetUri,
      '--json',
    );
    expect(reg.code, reg.stderr).toBe(0);
    return (JSON.parse(reg.stdout.trim().split('\n').at(-1) ?? '{}') as { version: string }).version;
  }

  /** Approves the pending request for this version as the lead (the demo approver's way: the CLI). */
  async function approve(version: string): Promise<void> {
    const pending = await until(
      async () =>
        (await approvals.listPending('churn')).find((r) => r.version === version && r.stage === 'sandbox'),
      `the approval request of ${version}`,
    );
    const out = await cli('--as', LEAD, 'models', 'approve', pending.requestId);
    expect(out.code, out.stderr).toBe(0);
  }

  it('start 10 % → ramp 25 % → status → manifest rollout block → abort → control only, all in the ledger', async () => {
    const v1 = await externalVersion(11);
    const v2 = await externalVersion(12);
    versions = { v1, v2 };

    expect((await cli('models', 'promote', 'churn', v1, '--stage', 'sandbox', '--reason', 'v1')).code).toBe(
      0,
    );
    await approve(v1);
    await until(
      async () => ((await registry.stages.getStage('churn', 'sandbox'))?.version === v1 ? true : undefined),
      'v1 to serve',
    );

    // Refused before anything runs: a bad share.
    const bad = await cli(
      'rollout',
      'start',
      'churn',
      '--stage',
      'sandbox',
      '--version',
      v2,
      '--percent',
      '150',
    );
    expect(bad.code).toBe(2);
    expect(errorLines(bad)).toEqual([expect.stringMatching(/--percent "150" is not a share in \(0, 100\]/)]);

    const start = await cli(
      'rollout',
      'start',
      'churn',
      '--stage',
      'sandbox',
      '--version',
      v2,
      '--percent',
      '10',
      '--reason',
      'try v2',
    );
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toMatch(/approvers have been emailed/);
    const request = (await approvals.listPending('churn')).find((r) => r.version === v2);
    expect(request?.rollout).toEqual({ percent: 10 });
    await approve(v2);
    const active = await until(() => registry.rollouts.active('churn', 'sandbox'), 'the rollout to start');
    expect(active).toMatchObject({ canaryVersion: v2, controlVersion: v1, approval: { approvedBy: [LEAD] } });
    // The stage did not move.
    expect((await registry.stages.getStage('churn', 'sandbox'))?.version).toBe(v1);

    // Someone who is neither approver nor rollbackBy may not ramp it.
    const stranger = await cli(
      '--as',
      'intern@studio.example',
      'rollout',
      'ramp',
      'churn',
      '--stage',
      'sandbox',
      '--percent',
      '50',
    );
    expect(stranger.code).toBe(2);
    expect(errorLines(stranger)).toEqual([
      expect.stringMatching(/intern@studio\.example may not ramp rollouts on sandbox/),
    ]);

    const ramp = await cli(
      '--as',
      LEAD,
      'rollout',
      'ramp',
      'churn',
      '--stage',
      'sandbox',
      '--percent',
      '25',
      '--reason',
      'fine',
    );
    expect(ramp.code, ramp.stderr).toBe(0);
    expect(ramp.stdout).toMatch(/ramped: canary .* 25 %, control .* 75 %/);
    const shrink = await cli(
      '--as',
      LEAD,
      'rollout',
      'ramp',
      'churn',
      '--stage',
      'sandbox',
      '--percent',
      '5',
    );
    expect(shrink.code).toBe(2);
    expect(errorLines(shrink)).toEqual([expect.stringMatching(/start a new rollout/)]);

    const status = await cli('rollout', 'status', 'churn', '--stage', 'sandbox', '--json');
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout.trim().split('\n').at(-1) ?? '{}') as {
      percent: number;
      rollout: { rolloutId: string; status: string };
      decision: { action: string };
    };
    expect(s).toMatchObject({
      percent: 25,
      rollout: { rolloutId: active.rolloutId, status: 'active' },
      decision: { action: 'continue' },
    });

    const m = await manifest();
    expect(m.version).toBe(v1);
    expect(m.rollout?.variants.map((v) => [v.name, v.version, v.weight])).toEqual([
      ['canary', v2, 2500],
      ['control', v1, 7500],
    ]);
    const canary = m.rollout?.variants[0];
    const bytes = Buffer.from(await (await fetch(canary?.download.url ?? '')).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(canary?.download.sha256);
    const assigned = Array.from(
      { length: 2000 },
      (_, i) => mlcycleAssign(m.rollout?.rolloutId ?? '', `p${i}`, m.rollout?.variants ?? []).version,
    );
    const share = assigned.filter((v) => v === v2).length / assigned.length;
    expect(share).toBeGreaterThan(0.21);
    expect(share).toBeLessThan(0.29);

    const abort = await cli(
      '--as',
      LEAD,
      'rollout',
      'abort',
      'churn',
      '--stage',
      'sandbox',
      '--reason',
      'crash reports',
    );
    expect(abort.code, abort.stderr).toBe(0);
    const after = await manifest();
    expect(after.version).toBe(v1);
    expect(after.rollout).toBeUndefined();

    // (The CLI's own config file has no sandbox stage, so the whole history, filtered here.)
    const history = await cli('models', 'history', 'churn', '--json');
    expect(history.code, history.stderr).toBe(0);
    const rows = JSON.parse(history.stdout.trim().split('\n').at(-1) ?? '[]') as {
      stage: string;
      action: string;
    }[];
    expect(
      rows.filter((r) => r.stage === 'sandbox' && r.action.startsWith('rollout')).map((r) => r.action),
    ).toEqual([
      `rollout abort ${active.rolloutId} (25 %)`,
      `rollout ramp ${active.rolloutId} (25 %)`,
      `rollout start ${active.rolloutId} (10 %)`,
    ]);
  }, 300_000);

  it('rollout promote: the canary goes through the stage approval; the rollout ends promoted and the manifest serves it alone', async () => {
    if (!versions) throw new Error('the first test registers the versions');
    const { v1, v2 } = versions;
    const start = await cli(
      'rollout',
      'start',
      'churn',
      '--stage',
      'sandbox',
      '--version',
      v2,
      '--percent',
      '50',
    );
    expect(start.code, start.stderr).toBe(0);
    await approve(v2);
    const active = await until(() => registry.rollouts.active('churn', 'sandbox'), 'the second rollout');
    expect(active.rolloutId).not.toBe(`churn.sandbox.1`);

    const promote = await cli('rollout', 'promote', 'churn', '--stage', 'sandbox');
    expect(promote.code, promote.stderr).toBe(0);
    expect(promote.stdout).toMatch(/approvers have been emailed/);
    await approve(v2);
    await until(
      async () => ((await registry.stages.getStage('churn', 'sandbox'))?.version === v2 ? true : undefined),
      'v2 to serve',
    );
    const ended = await until(async () => {
      const r = await registry.rollouts.get('churn', active.rolloutId);
      return r?.status === 'promoted' ? r : undefined;
    }, 'the rollout to end promoted');
    expect(ended.ended).toMatchObject({ kind: 'promoted' });
    const m = await until(async () => {
      const now = await manifest();
      return now.version === v2 ? now : undefined;
    }, 'the manifest to serve v2');
    expect(m.previousVersion).toBe(v1);
    expect(m.rollout).toBeUndefined();
    const status = await cli('rollout', 'status', 'churn', '--stage', 'sandbox');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(`rollout ${active.rolloutId.replace(/\./g, '\\.')} \\(promoted\\)`),
    );
  }, 300_000);
});
