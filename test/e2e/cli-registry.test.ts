import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runTraining } from '../../containers/trainer/src/train-job.js';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { parseS3Uri, S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../local/data/churn.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import { DEFAULT_CONFIG as CONFIG, errorLines, ROOT, runCli } from '../support/cli.js';

/**
 * The registry commands as a user runs them: `mlcycle` in a child process against a local stack
 * that this test runs (found through <dir>/endpoints.json, as `mlcycle up` is). Bad input must
 * exit non-zero with one line naming the value, and write nothing.
 */
describe('mlcycle models (CLI) against a running local stack', () => {
  let dir: string;
  let stack: LocalStack;
  let sha: string;
  let artifact: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-cli-'));
    // The repository's config, plus a stage without gates: a version registered from outside has
    // reported metrics only, which no gate accepts.
    const raw = parse(readFileSync(CONFIG, 'utf8')) as { environments: Record<string, unknown> };
    raw.environments.sandbox = { approvers: ['ml-lead@studio.example'], quorum: 1 };
    stack = await startLocalStack({ config: parseConfig(raw), dir, root: ROOT, fresh: true });
    const body = 'externally trained weights';
    sha = createHash('sha256').update(body).digest('hex');
    artifact = `s3://${stack.endpoints.bucket}/runs/churn/external/model.json`;
    await new S3Objects(stack.s3.client).put(
      { bucket: stack.endpoints.bucket, key: 'runs/churn/external/model.json' },
      body,
    );
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(dir, args, { config: CONFIG });

  /** Polls until `probe` finds something (a deadline, not a timing assertion). */
  async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function tableItems(): Promise<string[]> {
    const doc = createDocumentClient(stack.dynamo.client);
    const out = await doc.send(
      new ScanCommand({ TableName: stack.endpoints.tableName, ConsistentRead: true }),
    );
    return (out.Items ?? []).map((i) => JSON.stringify(i)).sort();
  }

  async function expectRefused(args: string[], message: RegExp): Promise<void> {
    const before = await tableItems();
    const r = await cli(...args);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLines(r)).toEqual([expect.stringMatching(message)]);
    expect(await tableItems()).toEqual(before);
  }

  const register = (...extra: string[]) => [
    'models',
    'register',
    'churn',
    '--artifact',
    artifact,
    '--sha256',
    sha,
    '--metrics',
    '{"auc":0.81,"f1":0.6}',
    ...extra,
  ];

  it('datasets generate uploads the table the model predicts (its target column), not the churn table for every model', async () => {
    const objects = new S3Objects(stack.s3.client);
    for (const [model, target] of [
      ['churn', 'churned'],
      ['ltv', 'ltv_90d'],
      ['segments', 'segment'],
    ] as const) {
      const r = await cli('datasets', 'generate', model, '--rows', '200', '--seed', '5');
      expect(r.code, r.stderr).toBe(0);
      const key = `datasets/${model}/${model}-synthetic-seed5.csv`;
      const header = (await objects.getText({ bucket: stack.endpoints.bucket, key })).split('\n')[0] ?? '';
      expect(header.split(','), model).toContain(target);
    }
  });

  it('registers an external artifact, then lists, shows and counts it', async () => {
    const r = await cli(...register('--json'));
    expect(r.code, r.stderr).toBe(0);
    const version = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(version).toMatchObject({
      model: 'churn',
      version: '1.0.0',
      status: 'validating',
      // What the registrant measured is theirs: kept as reported, nothing measured yet.
      metrics: {},
      reportedMetrics: { auc: 0.81, f1: 0.6 },
      lineage: { artifactSha256: sha, author: 'data-scientist@studio.example' },
    });

    const list = await cli('models', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^MODEL\s+LATEST\s+VERSIONS\s+STAGING\s+PRODUCTION/m);
    expect(list.stdout).toMatch(/^churn\s+1\.0\.0\s+1\s+-\s+-/m);

    const show = await cli('models', 'show', 'churn', '1.0.0');
    expect(show.stdout).toContain('churn 1.0.0  status validating');
    expect(show.stdout).toContain(`artifact ${artifact}`);

    const stats = JSON.parse((await cli('models', 'stats', '--json')).stdout);
    expect(stats).toMatchObject({ models: 1, versionsByStatus: { validating: 1 }, pendingPromotions: 1 });
  });

  // Each refusal is a CLI child process (a few seconds each on 2 cores): deadlines, not timings.
  it('refuses bad registrations with one line naming the value, exit 2, and writes nothing', async () => {
    await expectRefused(register('--version', '1.2'), /"1\.2".*major\.minor\.patch/);
    await expectRefused(register('--version', '1.0.0'), /1\.0\.0 already exists/);
    await expectRefused(register('--bump', 'huge'), /--bump "huge"/);
    await expectRefused(
      ['models', 'register', 'churn', '--artifact', artifact, '--sha256', 'f'.repeat(64), '--metrics', '{}'],
      /has sha256 .* but the registry recorded f{64}/,
    );
    await expectRefused(
      ['models', 'register', 'nosuch', '--artifact', artifact, '--sha256', sha, '--metrics', '{}'],
      /unknown model "nosuch"/,
    );
  }, 180_000);

  it('refuses bad reads, unauthorised rollbacks and artifacts from elsewhere: one line, exit 2, nothing written', async () => {
    await expectRefused(['models', 'show', 'churn', '9.9.9'], /9\.9\.9/);
    await expectRefused(
      ['models', 'history', 'churn', '--stage', 'qa'],
      /unknown stage "qa".*staging, production/,
    );
    await expectRefused(
      ['models', 'history', 'churn', '--at', 'yesterday'],
      /--at "yesterday" is not a time/,
    );
    await expectRefused(
      ['models', 'rollback', 'churn', '--stage', 'production', '--reason', 'why not'],
      /data-scientist@studio\.example may not roll back production/,
    );
    await expectRefused(
      [
        '--as',
        'ml-lead@studio.example',
        'models',
        'rollback',
        'churn',
        '--stage',
        'production',
        '--reason',
        'why not',
      ],
      /nothing serves churn in production/,
    );
    // Artifacts come only from the model's run prefix of the artifacts bucket.
    for (const elsewhere of [
      `s3://${stack.endpoints.bucket}/external/model.json`,
      `s3://${stack.endpoints.bucket}/runs/other-model/x/model.json`,
      `s3://${stack.endpoints.bucket}/runs/churn/../../deployments/churn/model.json`,
      's3://attacker-bucket/runs/churn/model.json',
    ]) {
      await expectRefused(
        ['models', 'register', 'churn', '--artifact', elsewhere, '--sha256', sha],
        /is not an object under s3:\/\/mlcycle-artifacts\/runs\/churn\//,
      );
    }
  }, 180_000);
  it('an artifact of the reference trainer registered from outside: promote, approve as the approver, it serves', async () => {
    const bucket = stack.endpoints.bucket;
    const objects = new S3Objects(stack.s3.client);
    const datasetUri = `s3://${bucket}/datasets/churn/churn-external.csv`;
    await objects.put(parseS3Uri(datasetUri), churnCsv({ rows: 1500, seed: 11 }), 'text/csv');
    // Trained elsewhere (the reference trainer, outputs under a scratch prefix); only the model
    // file is kept, somewhere of its own: no holdout beside it, no run in the registry.
    const summary = await runTraining(
      {
        MLCYCLE_MODEL: 'churn',
        MLCYCLE_RUN_ID: 'offline-1',
        MLCYCLE_DATASET_URI: datasetUri,
        MLCYCLE_OUTPUT_URI: `s3://${bucket}/scratch/offline-1/`,
        MLCYCLE_HYPERPARAMETERS: JSON.stringify({ epochs: 8, learningRate: 0.1, l2: 0.001, seed: 3 }),
        MLCYCLE_TARGET: 'churned',
        MLCYCLE_CODE_VERSION: 'c0ffee1',
        MLCYCLE_EXCLUDE: 'player_id',
        MLCYCLE_HOLDOUT_FRACTION: 0.2,
      },
      { s3: stack.s3.client },
    );
    const body = await objects.getBytes(parseS3Uri(summary.artifactUri));
    const external = `s3://${bucket}/runs/churn/external-offline/model.json`;
    await objects.put(parseS3Uri(external), body, 'application/json');
    const bodySha = createHash('sha256').update(body).digest('hex');

    const reg = await cli(
      'models',
      'register',
      'churn',
      '--artifact',
      external,
      '--sha256',
      bodySha,
      '--metrics',
      '{"auc":0.8,"accuracy":0.74,"precision":0.6,"recall":0.55,"f1":0.57,"logLoss":0.5}',
      '--dataset',
      datasetUri,
      '--json',
    );
    expect(reg.code, reg.stderr).toBe(0);
    const version = (JSON.parse(reg.stdout.trim().split('\n').at(-1) ?? '{}') as { version: string }).version;

    // Its metrics were only reported: a stage with gates refuses it, and says why.
    const gated = await cli(
      'models',
      'promote',
      'churn',
      version,
      '--stage',
      'staging',
      '--reason',
      'offline',
    );
    expect(gated.code).toBe(1);
    expect(gated.stdout + gated.stderr).toMatch(
      /GateFailed.*auc was not measured by mlcycle \(0\.8 was only reported at registration/,
    );
    const promote = await cli(
      'models',
      'promote',
      'churn',
      version,
      '--stage',
      'sandbox',
      '--reason',
      'offline',
    );
    expect(promote.code, promote.stderr).toBe(0);
    expect(promote.stdout).toMatch(/approvers have been emailed/);
    const approvals = new ApprovalStore(createDocumentClient(stack.dynamo.client), stack.endpoints.tableName);
    const pending = await until(
      async () => (await approvals.listPending('churn')).find((r) => r.version === version),
      'the approval request',
    );
    const approve = await cli('--as', 'ml-lead@studio.example', 'models', 'approve', pending.requestId);
    expect(approve.code, approve.stderr).toBe(0);
    expect(approve.stdout).toContain('quorum reached (1/1)');

    const registry = new Registry(createDocumentClient(stack.dynamo.client), stack.endpoints.tableName);
    const pointer = await until(async () => {
      const p = await registry.stages.getStage('churn', 'sandbox');
      return p?.version === version ? p : undefined;
    }, 'sandbox to serve the version');
    const [entry] = await registry.stages.history('churn', { stage: 'sandbox' });
    expect(entry).toMatchObject({ seq: pointer.ledgerSeq, action: 'promote', toVersion: version });
    // Deploy proved it on real rows of its dataset (nothing lay beside the artifact).
    const validation = entry?.evidence.validation as {
      smokePredictions: number[];
      smokeSample: { source: string; uri: string };
    };
    expect(validation.smokeSample).toMatchObject({ source: 'dataset', uri: datasetUri });
    expect(validation.smokePredictions).toHaveLength(5);
    for (const p of validation.smokePredictions) expect(p > 0 && p < 1).toBe(true);

    const manifestUrl = `${stack.endpoints.api.replace(/\/+$/, '')}/models/churn/sandbox`;
    const res = await fetch(manifestUrl);
    expect(res.status).toBe(200);
    const manifest = (await res.json()) as { download: { url: string; sha256: string; size: number } };
    expect(manifest).toMatchObject({
      schema: 'mlcycle.manifest/v2',
      version,
      stage: 'sandbox',
      download: {
        url: `${stack.endpoints.api}downloads/churn/${bodySha}/model.json`,
        sha256: bodySha,
        size: body.length,
      },
      ledgerSeq: pointer.ledgerSeq,
    });
    // Public: no bucket layout, no address.
    expect(JSON.stringify(manifest)).not.toMatch(/s3:\/\/|@|mlcycle-artifacts|runs\//);
    // A game client downloads the model through the manifest's URL and checks it.
    const dl = await fetch(manifest.download.url);
    expect(dl.status).toBe(200);
    expect(
      createHash('sha256')
        .update(Buffer.from(await dl.arrayBuffer()))
        .digest('hex'),
    ).toBe(bodySha);
    // And so does curl (installed here; skipped with a reason where it is not).
    if (existsSync('/usr/bin/curl')) {
      const run = promisify(execFile);
      const fetched = await run('curl', ['-sS', '--fail', manifestUrl]);
      const viaCurl = JSON.parse(fetched.stdout) as { download: { url: string } };
      const bytes = await run('curl', ['-sS', '--fail', viaCurl.download.url], { encoding: 'buffer' });
      expect(createHash('sha256').update(bytes.stdout).digest('hex')).toBe(bodySha);
    } else console.warn('curl check skipped: curl is not installed');
  });
});
