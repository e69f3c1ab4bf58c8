import { createServer } from 'node:net';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOutbox } from '../../bin/cli/demo-approver.js';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { ExecutionFailures } from '../../lambdas/adapters/pipeline/execution-failures.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { recordDecision } from '../../lambdas/services/approvals/decide.js';
import { churnCsv } from '../../local/data/churn.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { scheduledEvent } from '../../local/scheduler/scheduler.js';
import { startAs, startTestStack, type TestStack, testConfig } from '../support/local-stack.js';
import { nextApprovalLink } from '../support/outbox.js';

/** A port nothing listens on: Step Functions unreachable, as when `up` is down. */
async function deadEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * How executions end, on the embedded default: a callback that could not be delivered is
 * delivered later and the version deploys; a stopped execution closes its requests (no
 * reminders, pages say so) and fails its run; every failed execution is alerted once.
 */
describe('approvals and ended executions on the embedded default', () => {
  let t: TestStack;
  let store: Registry;
  let approvals: ApprovalStore;
  let failures: ExecutionFailures;
  const REQUESTOR = 'requestor@studio.test';
  const APPROVER = 'lead@studio.test';

  beforeAll(async () => {
    // Besides staging: a stage whose reminder is due from the start, and one no model passes.
    const base = testConfig();
    t = await startTestStack(
      testConfig({
        environments: {
          ...base.environments,
          reminding: { approvers: [APPROVER], approvalTimeoutHours: 1, reminderHoursBeforeExpiry: 1 },
          strict: { approvers: [APPROVER], gates: [{ metric: 'auc', operator: '>=', threshold: 0.999 }] },
        },
      }),
    );
    const doc = createDocumentClient(t.stack.dynamo.client);
    store = new Registry(doc, t.stack.endpoints.tableName);
    approvals = new ApprovalStore(doc, t.stack.endpoints.tableName);
    failures = new ExecutionFailures(doc, t.stack.endpoints.tableName);
    await new S3Objects(t.stack.s3.client).put(
      { bucket: t.stack.endpoints.bucket, key: 'datasets/churn/churn.csv' },
      churnCsv({ rows: 3000, seed: 11 }),
      'text/csv',
    );
  });
  afterAll(async () => {
    await t?.stop();
  });

  const start = (stage: string) => startAs(t.stack, REQUESTOR, { model: 'churn', stage, reason: 'test' });

  /** Starts an execution and waits until it asks for approval: its emailed link and request. */
  async function waitingForApproval(stage = 'staging') {
    const before = readOutbox(t.stack.endpoints.outboxDir).length;
    const execution = { executionArn: await start(stage) };
    const link = await nextApprovalLink(t.stack.endpoints.outboxDir, before, { timeoutMs: 60_000 });
    const requestId = decodeURIComponent(new URL(link).pathname.split('/').pop() ?? '');
    const request = await approvals.require(requestId);
    expect(request.executionArn).toBe(execution.executionArn);
    return { executionArn: execution.executionArn, link, request };
  }

  it('SendTaskSuccess fails at quorum (Step Functions unreachable): the approval is kept, the reconciler delivers it later, and the version deploys', async () => {
    const { executionArn, request } = await waitingForApproval();
    const unreachable = new SFNClient({
      region: LOCAL_REGION,
      endpoint: await deadEndpoint(),
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    const decided = await recordDecision(
      { store: approvals, registry: store, sfn: unreachable, sleep: async () => undefined },
      { requestId: request.requestId, approver: APPROVER, decision: 'approve', comment: 'fine', via: 'cli' },
    );
    unreachable.destroy();
    expect(decided).toMatchObject({
      outcome: 'approved',
      completedByThisDecision: true,
      delivery: 'pending',
    });
    // The execution still waits; nothing deployed yet.
    expect(t.stack.engine.describe(executionArn).status).toBe('RUNNING');
    expect((await store.versions.getVersion('churn', request.version))?.status).toBe('validating');
    expect(await approvals.require(request.requestId)).toMatchObject({
      status: 'approved',
      signalStatus: 'pending',
    });

    // The next scheduled run of the reconciler (rate(5 minutes), here invoked at once).
    const reconciled = (await t.stack.lambdas.invoke(
      'approvalReconciler',
      scheduledEvent('mlcycle-approval-reconciler', new Date()),
    )) as { delivered: string[] };
    expect(reconciled.delivered).toEqual([request.requestId]);

    const final = await t.stack.engine.settled(executionArn);
    expect(final.error ?? '').toBe('');
    expect(final.status).toBe('SUCCEEDED');
    expect((await store.versions.getVersion('churn', request.version))?.status).toBe('ready');
    expect((await store.stages.getStage('churn', 'staging'))?.version).toBe(request.version);
    expect((await approvals.require(request.requestId)).signalStatus).toBe('delivered');
  });

  it('StopExecution while waiting at Approve: the request is closed (no reminders, its page answers 410), the run and version failed', async () => {
    // A reminder is due from the start (its window is the whole wait), so one would go out.
    const { executionArn, link, request } = await waitingForApproval('reminding');
    const alerts = readOutbox(t.stack.endpoints.outboxDir).filter(
      (m) => m.to === 'alerts@mlcycle.local',
    ).length;
    const sfn = new SFNClient({
      region: LOCAL_REGION,
      endpoint: t.stack.endpoints.sfn,
      credentials: LOCAL_CREDENTIALS,
    });
    await sfn.send(new StopExecutionCommand({ executionArn }));
    sfn.destroy();
    expect((await t.stack.engine.settled(executionArn)).status).toBe('ABORTED');

    expect(await approvals.require(request.requestId)).toMatchObject({
      status: 'closed',
      outcomeNote: 'the pipeline execution was stopped before a decision was reached: nothing will deploy',
    });
    const reminders = (await t.stack.lambdas.invoke(
      'approvalReminders',
      scheduledEvent('mlcycle-approval-reminders', new Date()),
    )) as { reminded: string[] };
    expect(reminders.reminded).not.toContain(request.requestId);

    const page = await fetch(link);
    expect(page.status).toBe(410);
    const html = await page.text();
    expect(html).toContain('This request is closed');
    expect(html).toContain('nothing will deploy');

    const run = await store.runs.getRun('churn', request.runId);
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'aborted', error: 'ABORTED' } });
    expect((await store.versions.getVersion('churn', request.version))?.status).toBe('failed');
    const alerted = readOutbox(t.stack.endpoints.outboxDir).filter((m) => m.to === 'alerts@mlcycle.local');
    expect(alerted).toHaveLength(alerts + 1);
    expect(alerted.at(-1)?.subject).toBe(
      `[mlcycle] churn ${request.version} → reminding: the pipeline execution was stopped`,
    );

    // An approval arriving now is refused (410), not recorded.
    await expect(
      recordDecision(
        { store: approvals, registry: store, sfn: { send: async () => ({}) } },
        { requestId: request.requestId, approver: APPROVER, decision: 'approve', comment: '', via: 'cli' },
      ),
    ).rejects.toMatchObject({ name: 'ApprovalExpired', status: 410 });
    expect(await approvals.decisions(request.requestId)).toEqual([]);
  });

  it('StopExecution while PrepareRun splits: the run it records after the end was handled is failed, not left training', async () => {
    // Big enough that the split is still running when the stop lands.
    const bucket = t.stack.endpoints.bucket;
    await new S3Objects(t.stack.s3.client).put(
      { bucket, key: 'datasets/churn/big.csv' },
      churnCsv({ rows: 150_000, seed: 12 }),
      'text/csv',
    );
    const executionArn = await startAs(t.stack, REQUESTOR, {
      model: 'churn',
      stage: 'staging',
      reason: 'stopped while preparing',
      dataset: `s3://${bucket}/datasets/churn/big.csv`,
    });
    const entered = () =>
      t.stack.engine
        .describe(executionArn)
        .events.some(
          (e) =>
            e.type === 'TaskStateEntered' &&
            (e as { stateEnteredEventDetails?: { name?: string } }).stateEnteredEventDetails?.name ===
              'PrepareRun',
        );
    for (let i = 0; i < 300 && !entered(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(entered()).toBe(true);
    t.stack.engine.stopExecution(executionArn);
    expect((await t.stack.engine.settled(executionArn)).status).toBe('ABORTED');
    // No run yet: the end was handled while PrepareRun still split the dataset.
    const ofExecution = async () =>
      (await store.runs.listRuns('churn', 1000)).find((r) => r.executionArn === executionArn);
    expect(await ofExecution()).toBeUndefined();
    // PrepareRun finishes after the end (a Lambda already running does, on AWS too), records
    // the run, finds its execution ended and fails the run.
    let run = await ofExecution();
    for (let i = 0; i < 600 && (!run || run.status === 'training'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      run = await ofExecution();
    }
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'aborted' } });
  }, 120_000);

  it('a failure path (gate) is recorded and alerted once: by RecordFailure, not again when the execution ends', async () => {
    const alerts = () =>
      readOutbox(t.stack.endpoints.outboxDir).filter((m) => m.to === 'alerts@mlcycle.local');
    const before = alerts().length;
    const execution = { executionArn: await start('strict') };
    const final = await t.stack.engine.settled(execution.executionArn);
    expect(final).toMatchObject({ status: 'FAILED', error: 'mlcycle.GateFailed', endNotified: true });
    expect(alerts()).toHaveLength(before + 1);
    expect(alerts().at(-1)?.subject).toMatch(/^\[mlcycle\] churn \S+ → strict: a required gate failed$/);
    expect(await failures.get(execution.executionArn)).toMatchObject({
      kind: 'gate',
      recordedBy: 'recordFailure',
      alertedAt: expect.any(String),
    });
  });
});
