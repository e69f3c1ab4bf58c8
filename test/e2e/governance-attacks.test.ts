import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runTraining } from '../../containers/trainer/src/train-job.js';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { loadConfig } from '../../lambdas/adapters/config-file.js';
import { ExecutionFailures } from '../../lambdas/adapters/pipeline/execution-failures.js';
import { publishManifest, readManifest } from '../../lambdas/adapters/registry/manifest.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { parseS3Uri, S3Objects } from '../../lambdas/adapters/s3-objects.js';
import type { Metrics } from '../../lambdas/contracts/pipeline.js';
import { buildClientManifest } from '../../lambdas/domain/registry/manifest.js';
import { churnCsv } from '../../local/data/churn.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import { type CliRun, DEFAULT_CONFIG as CONFIG, errorLines, ROOT, runCli } from '../support/cli.js';

/**
 * Issue 9's attacks, as an attacker runs them: `mlcycle` child processes (and raw Step Functions
 * calls) against a running local stack started with the repository's config (production needs
 * 2 of ml-lead, liveops-lead and data-eng; staging 1 of ml-lead). Each attack must end refused,
 * saying why, with what serves each stage, its client manifest and the ledger unchanged.
 *
 * The world: production served 1.0.0 then 1.1.0 (serving), and a later promotion of 1.0.0 to
 * production was rejected; 1.2.0 serves staging only; 1.3.0 measured AUC 0.1; 1.4.0 and 1.5.0
 * are good candidates; 1.6.0 was registered from outside with a reported AUC of 0.1. No dataset
 * was ever uploaded under datasets/churn/.
 */

const MODEL = 'churn';
const LEAD = 'ml-lead@studio.example';
const LIVEOPS = 'liveops-lead@studio.example';
const DATA_ENG = 'data-eng@studio.example';
const SCIENTIST = 'data-scientist@studio.example';
const GOOD: Metrics = { auc: 0.86, accuracy: 0.8, precision: 0.7, recall: 0.62, f1: 0.64, logLoss: 0.42 };
/** A string as a literal inside a RegExp. */
const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const BAD: Metrics = { auc: 0.1, accuracy: 0.3, precision: 0.2, recall: 0.1, f1: 0.12, logLoss: 2.3 };

describe('governance attacks (issue 9) against a running local stack', () => {
  let dir: string;
  let stack: LocalStack;
  let registry: Registry;
  let approvals: ApprovalStore;
  let objects: S3Objects;
  let sfn: SFNClient;
  let evilConfig: string;

  const cli = (args: string[], options: Parameters<typeof runCli>[2] = {}) =>
    runCli(dir, args, { config: CONFIG, ...options });
  const as = (who: string, ...args: string[]) => cli(['--as', who, ...args]);

  /** What serves each stage, its client manifest, and the whole promotion ledger. */
  async function serving() {
    const stages = await registry.stages.listStages(MODEL);
    const manifests = await Promise.all(
      ['staging', 'production'].map((s) => readManifest(objects, stack.endpoints.bucket, MODEL, s)),
    );
    return { stages, manifests, ledger: await registry.stages.history(MODEL) };
  }

  async function executionCount(): Promise<number> {
    const out = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: stack.endpoints.stateMachineArn, maxResults: 1000 }),
    );
    return out.executions?.length ?? 0;
  }

  async function untilEnded(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (d.status !== 'RUNNING') return d;
      if (Date.now() > deadline) throw new Error(`${executionArn} still running`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function statesEntered(executionArn: string): Promise<string[]> {
    const out = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    return (out.events ?? [])
      .filter((e) => e.type?.endsWith('StateEntered'))
      .map((e) => e.stateEnteredEventDetails?.name ?? '');
  }

  /** The .eml files in the outbox (approval emails and alerts), oldest first. */
  const outbox = () =>
    existsSync(stack.endpoints.outboxDir)
      ? readdirSync(stack.endpoints.outboxDir)
          .filter((f) => f.endsWith('.eml'))
          .sort()
      : [];
  const mail = (file: string) => readFileSync(join(stack.endpoints.outboxDir, file), 'utf8');

  /** The one refusal line of a command that must exit 2 (the caller's mistake, nothing done). */
  function refused(r: CliRun, message: RegExp): void {
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
    expect(errorLines(r)).toEqual([expect.stringMatching(message)]);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-attacks-'));
    stack = await startLocalStack({ config: loadConfig(CONFIG), dir, root: ROOT, fresh: true });
    const doc = createDocumentClient(stack.dynamo.client);
    registry = new Registry(doc, stack.endpoints.tableName);
    approvals = new ApprovalStore(doc, stack.endpoints.tableName);
    objects = new S3Objects(stack.s3.client);
    sfn = new SFNClient({
      endpoint: stack.endpoints.sfn,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const bucket = stack.endpoints.bucket;

    // A real model, trained on data kept outside datasets/churn/ (which stays empty).
    const data = `s3://${bucket}/scratch/churn-train.csv`;
    await objects.put(parseS3Uri(data), churnCsv({ rows: 1500, seed: 11 }), 'text/csv');
    const summary = await runTraining(
      {
        MLCYCLE_MODEL: MODEL,
        MLCYCLE_RUN_ID: 'seed',
        MLCYCLE_DATASET_URI: data,
        MLCYCLE_OUTPUT_URI: `s3://${bucket}/scratch/seed/`,
        MLCYCLE_HYPERPARAMETERS: JSON.stringify({ epochs: 6, learningRate: 0.1, l2: 0.001, seed: 3 }),
        MLCYCLE_TARGET: 'churned',
        MLCYCLE_CODE_VERSION: 'c0ffee1',
        MLCYCLE_EXCLUDE: 'player_id',
        MLCYCLE_HOLDOUT_FRACTION: 0.2,
      },
      { s3: stack.s3.client },
    );
    const body = await objects.getBytes(parseS3Uri(summary.artifactUri));
    const sha = createHash('sha256').update(body).digest('hex');

    async function version(v: string, metrics: Metrics, reported?: Metrics) {
      const artifactUri = `s3://${bucket}/runs/${MODEL}/seed-${v}/model.json`;
      await objects.put(parseS3Uri(artifactUri), body, 'application/json');
      await registry.versions.registerVersion({
        model: MODEL,
        version: v,
        metrics: reported ? {} : metrics,
        ...(reported ? { reportedMetrics: reported } : {}),
        lineage: {
          parentVersion: null,
          datasetUri: data,
          datasetSha256: 'd'.repeat(64),
          codeVersion: 'c0ffee1',
          runId: reported ? '' : `seed-${v}`,
          hyperparameters: { epochs: 6 },
          framework: reported ? 'external' : 'mlcycle-logreg@1.0.0',
          artifactUri,
          artifactSha256: sha,
          author: SCIENTIST,
        },
      });
    }
    async function promote(v: string, stage: string, approvedBy: string[]) {
      const entry = await registry.stages.promote({
        model: MODEL,
        stage,
        version: v,
        actor: SCIENTIST,
        reason: `ship ${v}`,
        action: 'promote',
        evidence: { approvals: approvedBy.map((approver) => ({ approver, comment: 'ok' })) },
      });
      const record = await registry.versions.requireVersion(MODEL, v);
      await publishManifest(
        objects,
        bucket,
        buildClientManifest(entry, record, {
          url: `https://cdn.test/downloads/${record.model}/${record.lineage.artifactSha256}/model.json`,
          sha256: record.lineage.artifactSha256,
          size: 1,
        }),
      );
    }
    await version('1.0.0', { ...GOOD, auc: 0.84 });
    await version('1.1.0', { ...GOOD, auc: 0.85 });
    await version('1.2.0', GOOD);
    await version('1.3.0', BAD);
    await version('1.4.0', GOOD);
    await version('1.5.0', GOOD);
    await version('1.6.0', BAD, BAD);
    await promote('1.0.0', 'production', [LEAD, LIVEOPS]);
    await promote('1.1.0', 'production', [LEAD, DATA_ENG]);
    await registry.stages.recordRejection({
      model: MODEL,
      stage: 'production',
      version: '1.0.0',
      requestId: 'apr-seeded-rejection',
      actor: LIVEOPS,
      reason: 'retention regressed under 1.0.0',
    });
    await promote('1.2.0', 'staging', [LEAD]);

    // The attacker's config: production asks for nothing.
    const raw = parse(readFileSync(CONFIG, 'utf8')) as {
      environments: Record<string, Record<string, unknown>>;
    };
    raw.environments.production = {
      ...raw.environments.production,
      approvers: [],
      quorum: 0,
      gates: [],
      rollbackBy: [SCIENTIST],
    };
    evilConfig = join(dir, 'evil.yaml');
    writeFileSync(evilConfig, stringify(raw));
  });

  afterAll(async () => {
    sfn?.destroy();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('world: production serves 1.1.0, staging 1.2.0, each with its manifest', async () => {
    const now = await serving();
    expect(now.stages.map((s) => [s.stage, s.version]).sort()).toEqual([
      ['production', '1.1.0'],
      ['staging', '1.2.0'],
    ]);
    expect(now.manifests.map((m) => m?.version)).toEqual(['1.2.0', '1.1.0']);
  });

  // ---- Hole 1: the policy comes from the caller -------------------------------------------------

  it('hole 1: --config evil.yaml (production: no approvers, quorum 0, no gates) cannot deploy a model with AUC 0.1', async () => {
    const before = await serving();
    // A version whose measured AUC is 0.1, and one registered from outside claiming 0.1: the
    // deployed production gates refuse both, whatever the caller's config says.
    for (const [version, why] of [
      [
        '1.3.0',
        /auc 0\.1\d* fails >= 0\.75; f1 0\.12\d* fails >= 0\.5; auc 0\.1\d* vs 0\.85\d* serving \(1\.1\.0\)/,
      ],
      ['1.6.0', /auc was not measured by mlcycle/],
    ] as const) {
      const r = await cli([
        '--config',
        evilConfig,
        'models',
        'promote',
        MODEL,
        version,
        '--stage',
        'production',
        '--wait',
      ]);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
      const last = r.stdout.trim().split('\n').at(-1) ?? '';
      expect(last).toMatch(/^FAILED: mlcycle\.GateFailed — a required gate failed: /);
      expect(last).toMatch(why);
    }
    expect(await serving()).toEqual(before);
  }, 120_000);

  it('hole 1: --config evil.yaml on a good version still waits for the deployed quorum of the deployed approvers', async () => {
    const before = await serving();
    const r = await cli([
      '--config',
      evilConfig,
      'models',
      'promote',
      MODEL,
      '1.5.0',
      '--stage',
      'production',
      '--reason',
      'no approvals needed, says my config',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const request = await approvals.findForVersion(MODEL, '1.5.0', 'production');
    expect(request).toMatchObject({
      status: 'pending',
      approvers: [LEAD, LIVEOPS, DATA_ENG],
      quorum: 2,
      requestedBy: SCIENTIST,
    });
    expect(r.stdout).toContain(`approvers have been emailed (2 of ${LEAD}, ${LIVEOPS}, ${DATA_ENG} needed)`);
    expect(await serving()).toEqual(before);
  }, 60_000);

  it('hole 1: a raw StartExecution carrying a policy and an identity fails at Admit, runs nothing, and is recorded and alerted', async () => {
    const before = await serving();
    const mails = outbox();
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stack.endpoints.stateMachineArn,
        name: 'churn-production-forged-policy',
        // What a caller's config used to put in the input (the shape that deployed before the
        // fix): its own identity, training settings and policy.
        input: JSON.stringify({
          model: MODEL,
          stage: 'production',
          promote: '1.3.0',
          requestedBy: LEAD,
          reason: 'hotfix',
          trigger: 'manual',
          dataset: '',
          bump: 'minor',
          version: '',
          training: {
            target: 'churned',
            exclude: ['player_id'],
            hyperparameters: { epochs: 1 },
            holdoutFraction: 0.2,
            timeoutSeconds: 600,
          },
          policy: {
            gates: [],
            approvers: [],
            quorum: 0,
            approvalRequired: false,
            approvalTimeoutSeconds: 60,
            reminderSecondsBeforeExpiry: 0,
          },
        }),
      }),
    );
    const end = await untilEnded(executionArn as string);
    expect(end.status).toBe('FAILED');
    expect(end.error).toBe('mlcycle.PreparationFailed');
    expect(end.cause).toMatch(/^the run or promotion could not be started: ValidationError: /);
    for (const key of ['requestedBy', 'trigger', 'training', 'policy']) expect(end.cause).toContain(key);
    expect(end.cause).toContain('policy and identity come from the deployed stack');
    // Nothing ran after Admit: straight to the failure path.
    expect(await statesEntered(executionArn as string)).toEqual([
      'Admit',
      'OnPreparationFailure',
      'RecordFailure',
      'FailureKind?',
      'PreparationFailed',
    ]);
    const failures = new ExecutionFailures(
      createDocumentClient(stack.dynamo.client),
      stack.endpoints.tableName,
    );
    expect(await failures.get(executionArn as string)).toMatchObject({
      kind: 'preparation',
      summary: 'the run or promotion could not be started',
      alertedAt: expect.any(String),
    });
    const alerts = outbox()
      .filter((f) => !mails.includes(f))
      .map(mail);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain('the run or promotion could not be started');
    expect(await serving()).toEqual(before);
  }, 60_000);

  it('hole 1: a raw StartExecution of a well-formed request that mlcycle never recorded is refused at Admit the same way', async () => {
    const before = await serving();
    const mails = outbox();
    const name = 'churn-production-promote-1-4-0-unrecorded';
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stack.endpoints.stateMachineArn,
        name,
        input: JSON.stringify({ model: MODEL, stage: 'production', promote: '1.4.0', reason: 'hi' }),
      }),
    );
    const end = await untilEnded(executionArn as string);
    expect(end.status).toBe('FAILED');
    expect(end.error).toBe('mlcycle.PreparationFailed');
    expect(end.cause).toContain(
      `ForbiddenError: execution ${name} was not started through mlcycle (no start record)`,
    );
    expect(await statesEntered(executionArn as string)).toEqual([
      'Admit',
      'OnPreparationFailure',
      'RecordFailure',
      'FailureKind?',
      'PreparationFailed',
    ]);
    const alerts = outbox()
      .filter((f) => !mails.includes(f))
      .map(mail);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain('not started through mlcycle');
    expect(await approvals.findForVersion(MODEL, '1.4.0', 'production')).toBeUndefined();
    expect(await serving()).toEqual(before);
  }, 60_000);

  // ---- Hole 2: rollback is a back door ----------------------------------------------------------

  it('hole 2: rollback to a version that never served production, or was rejected for it since, is refused with "use promote"', async () => {
    const before = await serving();
    const rollback = (...extra: string[]) =>
      as(LEAD, 'models', 'rollback', MODEL, '--stage', 'production', '--reason', 'trust me', ...extra);
    // 1.2.0 serves staging, but never served production; 1.3.0 never served anything.
    for (const v of ['1.2.0', '1.3.0']) {
      refused(
        await rollback('--to', v),
        new RegExp(
          esc(
            `mlcycle: churn ${v} never served production, so it is not a rollback target; use \`mlcycle models promote churn ${v} --stage production\``,
          ),
        ),
      );
    }
    refused(
      await rollback('--to', '1.0.0'),
      /^mlcycle: churn 1\.0\.0 was rejected for production by liveops-lead@studio\.example at .* after it last served; use `mlcycle models promote churn 1\.0\.0 --stage production`/,
    );
    // Without --to, the only earlier version is the rejected one: nothing to go back to.
    refused(await rollback(), /every earlier version was rejected since \(1\.0\.0\).*or promote one/);
    expect(await serving()).toEqual(before);
  }, 120_000);

  it('hole 2: only the deployed rollbackBy (default: the approvers) may roll back, whatever the caller’s config says', async () => {
    const before = await serving();
    const args = ['models', 'rollback', MODEL, '--stage', 'production', '--to', '1.0.0', '--reason', 'x'];
    for (const who of [SCIENTIST, 'mallory@evil.example']) {
      refused(
        await as(who, ...args),
        new RegExp(
          `^${esc(`mlcycle: ${who} may not roll back production (allowed: ${LEAD}, ${LIVEOPS}, ${DATA_ENG};`)}`,
        ),
      );
    }
    // evil.yaml lists the scientist under production.rollbackBy: the deployed config does not.
    refused(
      await cli(['--config', evilConfig, '--as', SCIENTIST, ...args]),
      /^mlcycle: data-scientist@studio\.example may not roll back production/,
    );
    expect(await serving()).toEqual(before);
  }, 120_000);

  // ---- Hole 7 (part) and 3: the promotion that waits for approvers ------------------------------

  /** liveops-lead asks for 1.4.0 in production (no --wait); the CLI's answer and the request. */
  let asked: Promise<{ run: CliRun; requestId: string; requestExisted: boolean }> | undefined;
  function liveopsPromotes() {
    asked ??= (async () => {
      const run = await as(LIVEOPS, 'models', 'promote', MODEL, '1.4.0', '--stage', 'production');
      // Read the moment the CLI returned: the request must already be there.
      const request = await approvals.findForVersion(MODEL, '1.4.0', 'production');
      return { run, requestId: request?.requestId ?? '', requestExisted: request?.status === 'pending' };
    })();
    return asked;
  }

  it('hole 7: models promote says "approvers have been emailed" only once the request exists, naming who must decide', async () => {
    const before = await serving();
    const mails = outbox();
    const { run, requestId, requestExisted } = await liveopsPromotes();
    expect(run.code, run.stderr).toBe(0);
    expect(requestExisted).toBe(true);
    expect(run.stdout.trim().split('\n').at(-1)).toBe(
      `approvers have been emailed (2 of ${LEAD}, ${DATA_ENG} needed); request ${requestId}`,
    );
    const sent = outbox()
      .filter((f) => !mails.includes(f))
      .map(mail);
    expect(sent.some((m) => m.includes(`To: ${LEAD}`))).toBe(true);
    expect(sent.some((m) => m.includes(`To: ${DATA_ENG}`))).toBe(true);
    expect(sent.some((m) => m.includes(`To: ${LIVEOPS}`))).toBe(false);
    expect(await serving()).toEqual(before);
  }, 60_000);

  it('hole 3: locally, the requestor may not approve (or reject) their own promotion', async () => {
    const { requestId } = await liveopsPromotes();
    const before = await serving();
    refused(
      await as(LIVEOPS, 'models', 'approve', requestId, '--comment', 'lgtm'),
      new RegExp(
        `^${esc(`mlcycle: ${LIVEOPS} asked for this promotion and so may not approve or reject it`)}$`,
      ),
    );
    // Nor under a spelling of their own address.
    refused(
      await as(' LiveOps-Lead@Studio.Example ', 'models', 'approve', requestId),
      /asked for this promotion and so may not approve or reject it$/,
    );
    refused(
      await as(SCIENTIST, 'models', 'approve', requestId),
      /^mlcycle: data-scientist@studio\.example is not an approver of production/,
    );
    expect(await approvals.decisions(requestId)).toEqual([]);
    expect((await approvals.get(requestId))?.status).toBe('pending');
    expect(await serving()).toEqual(before);
  }, 120_000);

  // ---- Hole 3: anyone is anyone (--aws) ---------------------------------------------------------

  describe('hole 3: --as and MLCYCLE_USER are refused with --aws, before any AWS call', () => {
    let recorder: Server;
    const calls: string[] = [];
    let awsEnv: Record<string, string | undefined>;

    beforeAll(async () => {
      // Stands in for every AWS endpoint: records each call and denies it.
      recorder = createServer((req, res) => {
        calls.push(`${req.method} ${req.url} ${req.headers['x-amz-target'] ?? ''}`);
        req.resume();
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end(
          '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>recorded</Message></Error></ErrorResponse>',
        );
      });
      await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
      const address = recorder.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      awsEnv = {
        AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
        AWS_ENDPOINT_URL_DYNAMODB: undefined,
        AWS_ENDPOINT_URL_S3: undefined,
        AWS_ENDPOINT_URL_SFN: undefined,
        AWS_ACCESS_KEY_ID: 'AKIAATTACKER00000000',
        AWS_SECRET_ACCESS_KEY: 'attacker-secret',
        AWS_REGION: 'eu-west-1',
        AWS_PROFILE: undefined,
        AWS_EC2_METADATA_DISABLED: 'true',
      };
    });
    afterAll(async () => {
      await new Promise((r) => recorder?.close(r));
    });

    it('mlcycle --aws --as <approver> models approve, and MLCYCLE_USER=<approver> mlcycle --aws …: exit 2, "--as is local only", no AWS call', async () => {
      const { requestId } = await liveopsPromotes();
      const before = await serving();
      const decisions = await approvals.decisions(requestId);

      const withAs = await cli(['--aws', '--as', LEAD, 'models', 'approve', requestId], {
        user: null,
        env: awsEnv,
      });
      refused(
        withAs,
        /^mlcycle: --as is a local convenience and is refused with --aws: on AWS you act as your authenticated AWS principal/,
      );

      const withUser = await cli(['--aws', 'models', 'approve', requestId], { user: LEAD, env: awsEnv });
      refused(withUser, /^mlcycle: MLCYCLE_USER is a local convenience and is refused with --aws/);

      const withProfile = await cli(['--profile', 'attacker', '--as', LEAD, 'models', 'approve', requestId], {
        user: null,
        env: awsEnv,
      });
      refused(withProfile, /^mlcycle: --as is a local convenience and is refused with --aws/);
      expect(calls).toEqual([]);

      // The same command without --as does reach "AWS" (here the recorder, which denies it): so
      // the refusals above came before any call, not from a network that was never there.
      const plain = await cli(['--aws', 'models', 'approve', requestId], { user: null, env: awsEnv });
      expect(plain.code).not.toBe(0);
      expect(calls.length).toBeGreaterThan(0);

      expect(await approvals.decisions(requestId)).toEqual(decisions);
      expect(await serving()).toEqual(before);
    }, 120_000);
  });

  // ---- Hole 7: failures that say nothing -------------------------------------------------------

  it('hole 7: pipeline start --wait with no dataset exits 1 with the cause; pipeline status shows it; it is recorded and alerted', async () => {
    const before = await serving();
    const mails = outbox();
    const r = await as(DATA_ENG, 'pipeline', 'start', '--model', MODEL, '--wait');
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    const cause = 'no dataset under s3://mlcycle-artifacts/datasets/churn/';
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(/^FAILED: mlcycle\.PreparationFailed — the run or promotion could not be started: /);
    expect(last).toContain(cause);
    const executionArn = /started (arn:\S+)/.exec(r.stdout + r.stderr)?.[1] ?? '';
    expect(executionArn).not.toBe('');

    const status = await cli(['pipeline', 'status', executionArn]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(
      /status: FAILED \(mlcycle\.PreparationFailed: the run or promotion could not be started: /,
    );
    expect(status.stdout).toContain(cause);

    const failures = new ExecutionFailures(
      createDocumentClient(stack.dynamo.client),
      stack.endpoints.tableName,
    );
    expect(await failures.get(executionArn)).toMatchObject({
      kind: 'preparation',
      detail: expect.stringContaining(cause),
      alertedAt: expect.any(String),
    });
    const alerts = outbox()
      .filter((f) => !mails.includes(f))
      .map(mail);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain(cause);
    expect(await serving()).toEqual(before);
  }, 120_000);

  it('hole 7: promoting a version that does not exist exits 2 naming it, and starts nothing', async () => {
    const before = await serving();
    const executions = await executionCount();
    refused(
      await as(DATA_ENG, 'models', 'promote', MODEL, '9.9.9', '--stage', 'production'),
      /^mlcycle: model churn has no version 9\.9\.9$/,
    );
    expect(await executionCount()).toBe(executions);
    expect(await serving()).toEqual(before);
  }, 60_000);

  it('hole 7: the sole approver of a stage asking for it is refused at once with the quorum, and nothing starts', async () => {
    const before = await serving();
    const executions = await executionCount();
    const quorum =
      /^mlcycle: quorum 1 for staging cannot be reached: approvers are \[ml-lead@studio\.example\] and ml-lead@studio\.example asked, so may not approve; ask someone else to start it$/;
    refused(await as(LEAD, 'models', 'promote', MODEL, '1.4.0', '--stage', 'staging'), quorum);
    refused(await as(LEAD, 'pipeline', 'start', '--model', MODEL, '--wait'), quorum);
    expect(await executionCount()).toBe(executions);
    expect(await serving()).toEqual(before);
  }, 60_000);
});
