import type { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { OutboxAlertPublisher, OutboxMailer } from '../../lambdas/adapters/notifier.js';
import { ExecutionFailures } from '../../lambdas/adapters/pipeline/execution-failures.js';
import { Executions } from '../../lambdas/adapters/stepfunctions/executions.js';
import { executionStatusChangeEvent } from '../../lambdas/contracts/execution-events.js';
import type { PipelineState, RunInfo } from '../../lambdas/contracts/pipeline.js';
import { approvalGap } from '../../lambdas/domain/approval/deploy-authorization.js';
import { buildApprovalRequest } from '../../lambdas/domain/approval/request.js';
import type { ApprovalRequest } from '../../lambdas/domain/approval/types.js';
import { makeExecutionEndedHandler } from '../../lambdas/handlers/execution-ended.js';
import { recordDecision } from '../../lambdas/services/approvals/decide.js';
import type { ExecutionEndedResult } from '../../lambdas/services/pipeline/execution-ended.js';
import { LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { FakeHistory } from '../support/fake-history.js';
import {
  type HandlerWorld,
  handlerWorld,
  lineageFor,
  METRICS,
  MODEL,
  passedGate,
  pipelineState,
  putRun,
  runInfo,
} from './fixtures.js';

const SM = `arn:aws:states:${LOCAL_REGION}:000000000000:stateMachine:mlcycle-lifecycle`;
let n = 0;
const newExecution = () => `${SM.replace(':stateMachine:', ':execution:')}:run-${++n}`;

describe('execution-ended handler (status-change events, DynamoDB Local, outbox alerts)', () => {
  let w: HandlerWorld;
  let approvals: ApprovalStore;
  let failures: ExecutionFailures;
  const history = new FakeHistory();
  let handler: (event: unknown) => Promise<ExecutionEndedResult>;

  beforeAll(async () => {
    w = await handlerWorld('executionEnded');
    approvals = new ApprovalStore(w.dynamo.doc, w.table);
    failures = new ExecutionFailures(w.dynamo.doc, w.table);
    handler = makeExecutionEndedHandler(() => ({
      registry: w.registry,
      approvals,
      failures,
      executions: new Executions(history as unknown as SFNClient),
      alerts: new OutboxAlertPublisher(new OutboxMailer(w.outboxDir, 'mlcycle@studio.test')),
    }));
  });
  afterAll(async () => {
    await w?.stop();
  });

  function event(
    executionArn: string,
    status: 'FAILED' | 'TIMED_OUT' | 'ABORTED',
    input: PipelineState,
    failure: { error?: string; cause?: string } = {},
  ) {
    return executionStatusChangeEvent(
      {
        executionArn,
        stateMachineArn: SM,
        name: executionArn.split(':').pop() ?? '',
        status,
        startDate: Date.now() - 60_000,
        stopDate: Date.now(),
        input: JSON.stringify(input),
        ...failure,
      },
      { region: LOCAL_REGION, account: '000000000000', id: `e-${n}` },
    );
  }

  /** A run that got to Approve: its run registered, its version validating, a pending request. */
  async function waitingAtApprove(runId: string, executionArn: string) {
    const input = pipelineState();
    const run: RunInfo = runInfo(w.bucket, runId);
    await putRun(w, run);
    const v = await w.registry.versions.registerVersion({
      model: MODEL,
      bump: 'minor',
      metrics: METRICS,
      lineage: lineageFor(w.bucket, runId),
    });
    await w.registry.runs.updateRun(MODEL, runId, { status: 'registered', version: v.version });
    const request = buildApprovalRequest(
      {
        taskToken: `token-${runId}`,
        executionArn,
        model: MODEL,
        stage: input.stage,
        version: v.version,
        runId,
        requestedBy: input.requestedBy,
        reason: input.reason,
        approvers: ['a@studio.test', 'b@studio.test'],
        quorum: 1,
        timeoutSeconds: 3600,
        reminderSecondsBeforeExpiry: 3600,
        gate: passedGate(),
        metrics: METRICS,
      },
      null,
      new Date(),
    );
    await approvals.create(request);
    const state = {
      ...input,
      run,
      registration: { version: v.version, parentVersion: null },
      gate: passedGate(),
    };
    history.states.set(executionArn, [input, { ...input, run }, state]);
    return { input, run, version: v.version, request, state };
  }

  it('stopped while waiting at Approve: request closed (off the pending list, so no reminders), run and version failed, one alert however often the event comes', async () => {
    const arn = newExecution();
    const { input, version, request } = await waitingAtApprove('r-stopped', arn);
    const alerts = w.outbox().length;

    const out = await handler(event(arn, 'ABORTED', input));

    expect(out).toEqual({
      executionArn: arn,
      status: 'ABORTED',
      closedRequests: [request.requestId],
      runFailed: 'r-stopped',
      versionSettled: version,
      notified: expect.any(String),
      // It had left no Batch job running (the local stack's test stops real ones).
      jobsStopped: [],
    });
    expect(await approvals.get(request.requestId)).toMatchObject({
      status: 'closed',
      outcomeNote: 'the pipeline execution was stopped before a decision was reached: nothing will deploy',
    });
    expect((await approvals.listPending()).map((r) => r.requestId)).not.toContain(request.requestId);
    expect(await w.registry.runs.getRun(MODEL, 'r-stopped')).toMatchObject({
      status: 'failed',
      finishedAt: expect.any(String),
      failure: { kind: 'aborted', error: 'ABORTED', cause: 'the pipeline execution was stopped' },
    });
    expect((await w.registry.versions.getVersion(MODEL, version))?.status).toBe('failed');
    const alert = w.outbox().at(-1) ?? '';
    expect(alert).toContain(
      `Subject: [mlcycle] churn ${version} → staging: the pipeline execution was stopped`,
    );
    expect(alert).toContain(`Approval requests closed (nothing will deploy): ${request.requestId}.`);
    expect(alert).toContain('The run r-stopped was marked failed.');

    // EventBridge delivers at least once: the second delivery changes nothing and alerts no one.
    const before = await w.scan();
    const again = await handler(event(arn, 'ABORTED', input));
    expect(again).toMatchObject({
      closedRequests: [],
      runFailed: null,
      versionSettled: null,
      notified: null,
    });
    expect(w.outbox()).toHaveLength(alerts + 1);
    expect(await w.scan()).toBe(before);
  });

  it('an approval delivered to an execution that then failed at Deploy is spent: closed, so no later Deploy may use it', async () => {
    const arn = newExecution();
    const { input, request, state } = await waitingAtApprove('r-spent', arn);
    // Quorum reached and the callback delivered: the execution went on to Deploy, which failed.
    const decided = await recordDecision(
      { store: approvals, registry: w.registry, sfn: { send: async () => ({}) } },
      {
        requestId: request.requestId,
        approver: 'a@studio.test',
        decision: 'approve',
        comment: 'ok',
        via: 'link',
      },
    );
    expect(decided).toMatchObject({ outcome: 'approved', delivery: 'delivered' });
    history.states.set(arn, [
      ...(history.states.get(arn) ?? []),
      { ...state, approval: { requestId: request.requestId }, failureKind: 'deploy' },
    ]);

    const out = await handler(
      event(arn, 'FAILED', input, { error: 'mlcycle.DeployFailed', cause: 'smoke test failed' }),
    );

    expect(out.closedRequests).toEqual([request.requestId]);
    const spent = await approvals.get(request.requestId);
    expect(spent).toMatchObject({
      status: 'closed',
      outcomeNote: expect.stringContaining('nothing will deploy'),
    });
    // What Deploy checks: a closed request authorises nothing.
    expect(
      approvalGap(
        {
          executionArn: arn,
          model: MODEL,
          version: request.version,
          stage: request.stage,
          requestedBy: input.requestedBy,
        },
        { approvers: ['a@studio.test', 'b@studio.test'], quorum: 1 },
        spent,
        await approvals.decisions(request.requestId),
      ),
    ).toMatch(/is closed, not approved/);
  });

  it('RecordFailure itself failed (the state reached it): does what it would have done — version rejected for a gate failure, run failed — and alerts once', async () => {
    const arn = newExecution();
    const { input, version, state } = await waitingAtApprove('r-rf-failed', arn);
    history.states.set(arn, [...(history.states.get(arn) ?? []), { ...state, failureKind: 'gate' }]);
    const out = await handler(
      event(arn, 'FAILED', input, {
        error: 'mlcycle.GateFailed',
        cause: 'A required gate failed; the serving version is unchanged.',
      }),
    );
    expect(out).toMatchObject({
      runFailed: 'r-rf-failed',
      versionSettled: version,
      notified: expect.any(String),
    });
    expect((await w.registry.versions.getVersion(MODEL, version))?.status).toBe('rejected');
    expect(await w.registry.runs.getRun(MODEL, 'r-rf-failed')).toMatchObject({
      status: 'failed',
      failure: { kind: 'gate', error: 'mlcycle.GateFailed' },
    });
    expect((await w.registry.runs.getRun(MODEL, 'r-rf-failed'))?.failure?.cause).toContain(
      'the execution then failed before RecordFailure finished (mlcycle.GateFailed)',
    );
    expect(await failures.get(arn)).toMatchObject({
      kind: 'gate',
      recordedBy: 'executionEnded',
      alertedAt: expect.any(String),
    });
  });

  it('RecordFailure recorded and alerted already: the end changes nothing more and sends no second alert', async () => {
    const arn = newExecution();
    const { input, version, state } = await waitingAtApprove('r-recorded', arn);
    await w.registry.runs.updateRun(MODEL, 'r-recorded', { status: 'failed' });
    await w.registry.versions.transition(MODEL, version, 'rejected', 'a required gate failed', 'mlcycle');
    expect(
      await failures.claimAlert(
        {
          executionArn: arn,
          model: MODEL,
          stage: 'staging',
          kind: 'gate',
          summary: 'a required gate failed',
          detail: '',
        },
        'recordFailure',
      ),
    ).toBe(true);
    await failures.markAlerted(arn, 'alert-1');
    history.states.set(arn, [...(history.states.get(arn) ?? []), { ...state, failureKind: 'gate' }]);
    const alerts = w.outbox().length;
    const out = await handler(event(arn, 'FAILED', input, { error: 'mlcycle.GateFailed' }));
    expect(out).toMatchObject({ runFailed: null, versionSettled: null, notified: null });
    expect(w.outbox()).toHaveLength(alerts);
  });

  it('an approved request whose callback was never delivered is closed: it took no effect', async () => {
    const arn = newExecution();
    const { input, request } = await waitingAtApprove('r-approved', arn);
    const approved: ApprovalRequest = { ...request };
    expect(
      await approvals.recordDecision(
        {
          requestId: approved.requestId,
          approver: 'a@studio.test',
          decision: 'approve',
          comment: 'fine',
          decidedAt: new Date().toISOString(),
          via: 'link',
        },
        0,
        {
          status: 'approved',
          note: 'approved by a@studio.test',
          signal: { kind: 'success', output: '{}' },
          leaseUntil: new Date(Date.now() + 60_000).toISOString(),
        },
      ),
    ).toBe('recorded');
    await handler(
      event(arn, 'FAILED', input, { error: 'mlcycle.LocalRuntimeStopped', cause: 'mlcycle up stopped' }),
    );
    expect(await approvals.get(approved.requestId)).toMatchObject({
      status: 'closed',
      decided: 'approved',
      signalStatus: 'undeliverable',
      outcomeNote:
        'approved by a@studio.test, but the pipeline execution failed (mlcycle.LocalRuntimeStopped) before it could deploy: nothing will deploy',
    });
    expect((await approvals.signals.listOwed()).map((r) => r.requestId)).not.toContain(approved.requestId);
  });

  it('an execution that failed in its first state (no run): recorded and alerted with the cause', async () => {
    const arn = newExecution();
    const input = pipelineState({ trigger: 'schedule', requestedBy: 'mlcycle-schedule' });
    history.states.set(arn, [input]);
    const out = await handler(
      event(arn, 'FAILED', input, {
        error: 'mlcycle.PreparationFailed',
        cause: `no dataset under s3://${w.bucket}/datasets/churn/`,
      }),
    );
    expect(out).toMatchObject({
      closedRequests: [],
      runFailed: null,
      versionSettled: null,
      notified: expect.any(String),
    });
    const alert = w.outbox().at(-1) ?? '';
    expect(alert).toContain(
      'Subject: [mlcycle] churn → staging: the pipeline execution failed (mlcycle.PreparationFailed)',
    );
    expect(alert).toContain(
      `Detail: mlcycle.PreparationFailed: no dataset under s3://${w.bucket}/datasets/churn/`,
    );
    expect(await failures.get(arn)).toMatchObject({
      model: MODEL,
      kind: 'failed',
      recordedBy: 'executionEnded',
    });
  });

  it('refuses what is not an ended execution’s status change, naming the field', async () => {
    const arn = newExecution();
    const ok = event(arn, 'FAILED', pipelineState());
    await expect(handler({ ...ok, detail: { ...ok.detail, status: 'SUCCEEDED' } })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('detail.status'),
    });
    await expect(handler({ ...ok, 'detail-type': 'Scheduled Event' })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('detail-type'),
    });
  });
});
