import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { modelStatusSchema } from '../../lambdas/contracts/status.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import { DEFAULT_CONFIG as CONFIG, errorLines, ROOT, runCli } from '../support/cli.js';
import { sampleConfig } from '../support/config-samples.js';
import { decision, request } from '../unit/approval/fixtures.js';

/**
 * `mlcycle status` and `mlcycle archive cleanup|history|stats` as a user runs them: a child
 * process against a local stack this test runs. Status goes through the local HTTP API (the
 * route GET /status/{model}), so the JSON is the endpoint's.
 */
describe('mlcycle status and archive (CLI) against a running local stack', () => {
  let dir: string;
  let stack: LocalStack;
  let registry: Registry;
  let objects: S3Objects;
  const cli = (...args: string[]) => runCli(dir, args, { config: CONFIG });
  const statusOf = async (model: string) => {
    const r = await cli('status', model, '--json');
    expect(r.code, r.stderr).toBe(0);
    return modelStatusSchema.parse(JSON.parse(r.stdout));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-status-'));
    stack = await startLocalStack({ config: parseConfig(sampleConfig()), dir, root: ROOT, fresh: true });
    const doc = createDocumentClient(stack.dynamo.client);
    registry = new Registry(doc, stack.endpoints.tableName);
    objects = new S3Objects(stack.s3.client);
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('status of a model with nothing yet, then mid-approval, then after a failed retrain', async () => {
    const empty = await statusOf('ltv');
    expect(empty).toMatchObject({
      model: 'ltv',
      lastRun: null,
      pendingApprovals: [],
      drift: null,
      lastCleanup: null,
    });
    expect(empty.stages.map((s) => [s.stage, s.serving])).toEqual([
      ['staging', null],
      ['production', null],
    ]);
    expect(empty.nextRetrain.at === null).toBe(!empty.nextRetrain.enabled);

    const approvals = new ApprovalStore(createDocumentClient(stack.dynamo.client), stack.endpoints.tableName);
    const pending = request({}, { model: 'ltv', version: '1.0.0', stage: 'production' });
    await approvals.create(pending);
    await approvals.recordDecision(
      { ...decision('a@studio.test', 'approve'), requestId: pending.requestId },
      0,
    );
    expect((await statusOf('ltv')).pendingApprovals).toEqual([
      expect.objectContaining({ requestId: pending.requestId, version: '1.0.0', approvals: 1, quorum: 2 }),
    ]);

    await registry.runs.putRun({
      model: 'ltv',
      runId: '20301201T030000Z-weekly',
      stage: 'staging',
      status: 'failed',
      trigger: 'schedule',
      requestedBy: 'mlcycle-scheduler',
      reason: 'weekly retrain',
      datasetUri: `s3://${stack.endpoints.bucket}/datasets/ltv/ltv.csv`,
      hyperparameters: {},
      startedAt: '2030-12-01T03:00:00.000Z',
      finishedAt: '2030-12-01T03:20:00.000Z',
      failure: { kind: 'Train', error: 'TrainingFailed', cause: 'trainer exited 1' },
    });
    const human = await cli('status', 'ltv');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(
      'last run: 20301201T030000Z-weekly failed (schedule, staging, started 2030-12-01T03:00:00.000Z); failed in Train: TrainingFailed: trainer exited 1',
    );
    expect(human.stdout).toContain(`pending approvals: 1.0.0 → production (1/2, ${pending.requestId}`);

    const unknown = await cli('status', 'nope');
    expect(unknown.code).toBe(2);
    expect(errorLines(unknown)).toEqual([
      expect.stringContaining('model "nope" is not in the deployed config'),
    ]);
  });

  it('archive cleanup --dry-run prints what the real run then does; history and stats and status show it', async () => {
    // Eight versions of churn (1 KB run outputs each); production went 1.0.0 → 1.6.0.
    for (let i = 0; i < 8; i++) {
      const runId = `run-${i}`;
      await objects.put(
        { bucket: stack.endpoints.bucket, key: `runs/churn/${runId}/model.json` },
        'x'.repeat(1000 + i),
      );
      await registry.versions.registerVersion({
        model: 'churn',
        bump: 'minor',
        metrics: { auc: 0.8 },
        status: 'ready',
        lineage: {
          parentVersion: null,
          datasetUri: `s3://${stack.endpoints.bucket}/datasets/churn/c.csv`,
          datasetSha256: 'd'.repeat(64),
          codeVersion: 'c',
          runId,
          hyperparameters: {},
          framework: 'mlcycle-logreg@1.0.0',
          artifactUri: `s3://${stack.endpoints.bucket}/runs/churn/${runId}/model.json`,
          artifactSha256: 'b'.repeat(64),
          author: 'ml-lead@studio.example',
        },
      });
    }
    for (const v of ['1.0.0', '1.6.0'])
      await registry.stages.promote({
        model: 'churn',
        stage: 'production',
        version: v,
        actor: 'a',
        reason: 'r',
        action: 'promote',
      });
    // keepLastVersions 5, floor 3 (the sample config): 1.2.0 and 1.1.0 are beyond the newest 5;
    // 1.7.0, 1.5.0, 1.4.0, 1.3.0, 1.2.0, 1.1.0 are the pool (6) ⇒ at most 3 may go: both do.
    const dry = await cli('archive', 'cleanup', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    const planned = JSON.parse(dry.stdout) as {
      dryRun: boolean;
      reclaimedBytes: number;
      models: { model: string; archived: { version: string; bytes: number }[] }[];
    };
    expect(planned.dryRun).toBe(true);
    const churnPlan = planned.models.find((m) => m.model === 'churn');
    expect(churnPlan?.archived.map((a) => a.version)).toEqual(['1.2.0', '1.1.0']);
    expect(planned.reclaimedBytes).toBe(1002 + 1001);
    const human = await cli('archive', 'cleanup', '--dry-run');
    expect(human.stdout).toContain('churn: would archive 1.2.0: beyond the newest 5 (1 objects, 1002 bytes)');
    expect(human.stdout).toContain('churn: keep 1.6.0: serving production');
    expect(human.stdout).toContain('churn: keep 1.0.0: rollback target of production');
    expect((await registry.versions.listVersions('churn')).every((v) => v.status === 'ready')).toBe(true);

    const real = await cli('archive', 'cleanup', '--json');
    expect(real.code, real.stderr).toBe(0);
    const done = JSON.parse(real.stdout) as typeof planned;
    expect(done.reclaimedBytes).toBe(planned.reclaimedBytes);
    const archived = (await registry.versions.listVersions('churn'))
      .filter((v) => v.status === 'archived')
      .map((v) => v.version);
    expect(archived.sort()).toEqual(churnPlan?.archived.map((a) => a.version).sort());

    const history = await cli('archive', 'history', '--model', 'churn', '--json');
    expect(history.code, history.stderr).toBe(0);
    expect(JSON.parse(history.stdout)).toEqual([
      expect.objectContaining({
        model: 'churn',
        trigger: 'manual',
        actor: 'data-scientist@studio.example',
        reclaimedBytes: 2003,
        archived: [
          { version: '1.2.0', reasons: ['beyond the newest 5'], bytes: 1002, objects: 1 },
          { version: '1.1.0', reasons: ['beyond the newest 5'], bytes: 1001, objects: 1 },
        ],
      }),
    ]);
    const stats = await cli('archive', 'stats', '--json');
    expect(stats.code, stats.stderr).toBe(0);
    expect((JSON.parse(stats.stdout) as { cleanups: unknown[] }).cleanups).toContainEqual(
      expect.objectContaining({ model: 'churn', cleanups: 1, totalReclaimedBytes: 2003 }),
    );
    expect((await statusOf('churn')).lastCleanup).toMatchObject({
      trigger: 'manual',
      archived: ['1.2.0', '1.1.0'],
      reclaimedBytes: 2003,
    });

    const bad = await cli('archive', 'history', '--limit', '0');
    expect(bad.code).toBe(2);
    expect(errorLines(bad)).toEqual([expect.stringContaining('--limit "0"')]);
    const before = JSON.stringify(await registry.versions.listVersions('churn'));
    const unknown = await cli('archive', 'cleanup', '--model', 'nope');
    expect(unknown.code).toBe(2);
    expect(errorLines(unknown)).toEqual([
      expect.stringContaining('--model "nope" is not a model of the config'),
    ]);
    expect(JSON.stringify(await registry.versions.listVersions('churn'))).toBe(before);
  });
});
