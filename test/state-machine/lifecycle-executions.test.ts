import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalLinkIn, approveThroughLink, readOutbox } from '../../bin/cli/demo-approver.js';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { gitCodeVersion } from '../../lambdas/contracts/code-version.js';
import { churnCsv } from '../../local/data/churn.js';
import { startAs, startTestStack, type TestStack, testConfig } from '../support/local-stack.js';

/**
 * Local executions of the one ASL file on the embedded default: every path ends in the
 * expected state, leaves the expected registry record, and never changes what serves a stage
 * unless it deploys.
 */
describe('lifecycle state machine on the embedded default', () => {
  let t: TestStack;
  let store: Registry;
  let approvals: ApprovalStore;
  let objects: S3Objects;
  const REQUESTOR = 'requestor@studio.test';

  beforeAll(async () => {
    // Besides staging and production: a stage whose gate no model passes, and one whose approval
    // wait ends after 2 s. The policy is the stack's; nothing in a request can change it.
    const base = testConfig();
    t = await startTestStack(
      testConfig({
        environments: {
          ...base.environments,
          strict: {
            approvers: ['lead@studio.test'],
            gates: [{ metric: 'auc', operator: '>=', threshold: 0.999 }],
          },
          hurried: { approvers: ['lead@studio.test'], approvalTimeoutHours: 2 / 3600 },
        },
      }),
    );
    const doc = createDocumentClient(t.stack.dynamo.client);
    store = new Registry(doc, t.stack.endpoints.tableName);
    approvals = new ApprovalStore(doc, t.stack.endpoints.tableName);
    objects = new S3Objects(t.stack.s3.client);
    const bucket = t.stack.endpoints.bucket;
    await objects.put(
      { bucket, key: 'datasets/churn/churn.csv' },
      churnCsv({ rows: 3000, seed: 11 }),
      'text/csv',
    );
    await objects.put(
      { bucket, key: 'datasets/churn/bad-target.csv' },
      // The target is there (PrepareRun splits it) but not binary: the trainer refuses it.
      `player_id,level,churned\n${Array.from({ length: 40 }, (_, i) => `${i},${i % 7},maybe`).join('\n')}\n`,
      'text/csv',
    );
  });
  afterAll(async () => {
    await t?.stop();
  });

  const dataset = (name: string) => `s3://${t.stack.endpoints.bucket}/datasets/churn/${name}`;

  async function run(
    request: { stage?: string; dataset?: string; force?: boolean } = {},
    approve?: 'approve' | 'reject',
  ) {
    const before = readOutbox(t.stack.endpoints.outboxDir).length;
    const executionArn = await startAs(t.stack, REQUESTOR, {
      model: 'churn',
      stage: request.stage ?? 'staging',
      dataset: request.dataset ?? dataset('churn.csv'),
      reason: 'test',
      ...(request.force ? { force: true } : {}),
    });
    if (approve) {
      const deadline = Date.now() + 30_000;
      let link: string | undefined;
      while (!link && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        link = readOutbox(t.stack.endpoints.outboxDir)
          .slice(before)
          .map((m) => approvalLinkIn(m.text))
          .find(Boolean);
      }
      if (!link) throw new Error('no approval email arrived');
      await approveThroughLink(link, approve, approve === 'approve' ? 'fine' : 'AUC too close to noise', []);
    }
    return t.stack.engine.settled(executionArn);
  }

  it('happy path: trains, registers, gates, waits for approval through the link, deploys', async () => {
    const result = await run({}, 'approve');
    expect(result.error ?? '').toBe('');
    expect(result.status).toBe('SUCCEEDED');
    const versions = await store.versions.listVersions('churn');
    expect(versions).toHaveLength(1);
    const v = versions[0];
    expect(v?.status).toBe('ready');
    // lineage names the commit of the code that trained it (this checkout)
    expect(v?.lineage.codeVersion).toBe(gitCodeVersion(process.cwd()) ?? 'unknown');
    expect(v?.lineage.codeVersion).not.toBe('');
    const pointer = await store.stages.getStage('churn', 'staging');
    expect(pointer?.version).toBe(v?.version);
    const ledger = await store.stages.history('churn', { stage: 'staging' });
    expect(ledger[0]?.toVersion).toBe(v?.version);
    const manifest = await objects.getJson<{ version: string }>({
      bucket: t.stack.endpoints.bucket,
      key: 'deployments/churn/staging.json',
    });
    expect(manifest.version).toBe(v?.version);
  });

  it('a run on the dataset the serving version was trained on: ends Skipped (a success), no version, no approval email (one notice), run skipped with why', async () => {
    const serving = await store.stages.getStage('churn', 'staging');
    const count = (await store.versions.listVersions('churn')).length;
    const mails = readOutbox(t.stack.endpoints.outboxDir).length;
    const result = await run();
    expect(result.status).toBe('SUCCEEDED');
    const output = JSON.parse(result.output ?? '{}') as { skipped?: { Error: string; Cause: string } };
    expect(output.skipped?.Error).toBe('RetrainSkipped');
    expect(output.skipped?.Cause).toContain(`churn ${serving?.version}, serving staging`);
    expect(output.skipped?.Cause).toContain('pass --force to train anyway');
    expect(await store.versions.listVersions('churn')).toHaveLength(count);
    // No approval email; the skip is noticed once on the alert channel (docs/notices.md).
    const subject = '[mlcycle] churn retrain for staging skipped: nothing new to train on';
    for (const until = Date.now() + 10_000; Date.now() < until; ) {
      if (readOutbox(t.stack.endpoints.outboxDir).length > mails) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(
      readOutbox(t.stack.endpoints.outboxDir)
        .slice(mails)
        .map((m) => m.subject),
    ).toEqual([subject]);
    const skipped = (await store.runs.listRuns('churn')).find((r) => r.executionArn === result.executionArn);
    expect(skipped?.status).toBe('skipped');
    expect(skipped?.skipped?.servingVersion).toBe(serving?.version);
    expect(await store.stages.getStage('churn', 'staging')).toEqual(serving);
  });

  it('training failure: ends TrainingFailed, run failed, nothing registered, serving untouched', async () => {
    const serving = await store.stages.getStage('churn', 'staging');
    const count = (await store.versions.listVersions('churn')).length;
    const result = await run({ dataset: dataset('bad-target.csv') });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('mlcycle.TrainingFailed');
    expect(await store.versions.listVersions('churn')).toHaveLength(count);
    const runs = await store.runs.listRuns('churn');
    expect(runs.find((r) => r.datasetUri.endsWith('bad-target.csv'))?.status).toBe('failed');
    expect(await store.stages.getStage('churn', 'staging')).toEqual(serving);
  });

  it('gate failure: ends GateFailed, version rejected with evidence, serving untouched', async () => {
    const serving = await store.stages.getStage('churn', 'staging');
    const result = await run({ stage: 'strict' });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('mlcycle.GateFailed');
    const newest = (await store.versions.listVersions('churn'))[0];
    expect(newest?.status).toBe('rejected');
    expect(await store.stages.getStage('churn', 'staging')).toEqual(serving);
  });

  it('rejection: ends ApprovalRejected, version rejected, serving untouched', async () => {
    const serving = await store.stages.getStage('churn', 'staging');
    // The same dataset as the version serving staging: forced, or it would be skipped.
    const result = await run({ force: true }, 'reject');
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('mlcycle.ApprovalRejected');
    const newest = (await store.versions.listVersions('churn'))[0];
    expect(newest?.status).toBe('rejected');
    expect(await store.stages.getStage('churn', 'staging')).toEqual(serving);
  });

  it('approval timeout: ends ApprovalTimedOut, request expired, serving untouched', async () => {
    const serving = await store.stages.getStage('churn', 'hurried');
    const result = await run({ stage: 'hurried' });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('mlcycle.ApprovalTimedOut');
    const newest = (await store.versions.listVersions('churn'))[0];
    expect(newest?.status).toBe('rejected');
    const request = await approvals.findForVersion('churn', newest?.version ?? '', 'hurried');
    expect(request?.status).toBe('expired');
    expect(await store.stages.getStage('churn', 'hurried')).toEqual(serving);
  });
});
