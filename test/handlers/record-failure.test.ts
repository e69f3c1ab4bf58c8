import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { ExecutionFailures } from '../../lambdas/adapters/pipeline/execution-failures.js';
import { publishManifest } from '../../lambdas/adapters/registry/manifest.js';
import type { FailureKind, PipelineState, RunInfo } from '../../lambdas/contracts/pipeline.js';
import { LOCAL_REGION } from '../../local/emulators/local-aws.js';
import {
  type HandlerWorld,
  handlerWorld,
  lineageFor,
  METRICS,
  MODEL,
  passedGate,
  pipelineState,
  putRun,
  REQUESTOR,
  runInfo,
} from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;
interface FailureRecord {
  kind: FailureKind;
  versionStatus: 'failed' | 'rejected' | null;
  notified: string | null;
}
let executions = 0;
/** A new execution of the lifecycle (RecordFailure's Parameters carry $$.Execution.Id). */
const newExecution = () =>
  `arn:aws:states:${LOCAL_REGION}:000000000000:execution:mlcycle-lifecycle:run-${++executions}`;

describe('record-failure handler (RecordFailure state, DynamoDB Local + outbox)', () => {
  let w: HandlerWorld;
  let handler: Handler;
  let approvals: ApprovalStore;
  let failures: ExecutionFailures;
  /** What serves staging (pointer and client manifest bytes) before any failure. */
  let serving: string;

  const servingNow = async () =>
    JSON.stringify([
      await w.registry.stages.getStage(MODEL, 'staging'),
      await w.registry.stages.getStage(MODEL, 'production'),
      await w.objects.getText({ bucket: w.bucket, key: 'deployments/churn/staging.json' }),
    ]);

  /** A run that got as far as Register (its version validating), as the failure paths see it. */
  async function registeredRun(runId: string) {
    const run = runInfo(w.bucket, runId);
    await putRun(w, run);
    const v = await w.registry.versions.registerVersion({
      model: MODEL,
      bump: 'minor',
      metrics: METRICS,
      lineage: lineageFor(w.bucket, runId),
    });
    await w.registry.runs.updateRun(MODEL, runId, { status: 'registered', version: v.version });
    return { run, version: v.version };
  }
  /** The RecordFailure input: the state at the failure, $.failureKind, and $.error when caught. */
  function failedState(
    failureKind: FailureKind,
    parts: {
      run?: RunInfo;
      version?: string;
      error?: { Error: string; Cause?: string };
      input?: PipelineState;
    },
  ) {
    return {
      ...(parts.input ?? pipelineState()),
      ...(parts.run ? { run: parts.run } : {}),
      ...(parts.run && parts.version
        ? {
            evaluation: {
              metrics: METRICS,
              holdoutRows: 240,
              artifact: { uri: `${parts.run.outputUri}model.json`, sha256: 'b'.repeat(64) },
              modelCardUri: `${parts.run.outputUri}model-card.json`,
              evaluationUri: `${parts.run.outputUri}evaluation.json`,
            },
            registration: { version: parts.version, parentVersion: '1.0.0' },
          }
        : {}),
      ...(parts.error ? { error: parts.error } : {}),
      failureKind,
    };
  }
  /** Invokes RecordFailure as the state does: `{ executionArn: $$.Execution.Id, state: $ }`. */
  /** The table without the executions' failure records (RecordFailure adds one per execution). */
  const registryScan = async () =>
    JSON.stringify(
      (JSON.parse(await w.scan()) as { PK: string }[]).filter((i) => !i.PK.startsWith('EXECUTION#')),
    );
  const record = async (state: unknown, executionArn = newExecution()) =>
    (await handler({ executionArn, state })) as FailureRecord;
  const lastAlert = () => w.outbox().at(-1) ?? '';

  beforeAll(async () => {
    w = await handlerWorld('recordFailure');
    approvals = new ApprovalStore(w.dynamo.doc, w.table);
    failures = new ExecutionFailures(w.dynamo.doc, w.table);
    // 1.0.0 serves staging, trained by run r0.
    const run = runInfo(w.bucket, 'r0');
    await putRun(w, run);
    const v = await w.registry.versions.registerVersion({
      model: MODEL,
      bump: 'minor',
      metrics: METRICS,
      lineage: lineageFor(w.bucket, 'r0'),
    });
    const entry = await w.registry.stages.promote({
      model: MODEL,
      stage: 'staging',
      version: v.version,
      actor: REQUESTOR,
      reason: 'x',
      action: 'promote',
    });
    await w.registry.runs.updateRun(MODEL, 'r0', { status: 'succeeded', version: v.version });
    await publishManifest(w.objects, w.bucket, {
      schema: 'mlcycle.manifest/v2',
      model: MODEL,
      stage: 'staging',
      version: v.version,
      download: {
        url: `https://cdn.test/downloads/${MODEL}/${v.lineage.artifactSha256}/model.json`,
        sha256: v.lineage.artifactSha256,
        size: 1,
      },
      metrics: METRICS,
      promotedAt: entry.at,
      ledgerSeq: entry.seq,
      previousVersion: null,
      action: 'promote',
    });
    serving = await servingNow();
    ({ handler } = (await import('../../lambdas/handlers/record-failure.js')) as { handler: Handler });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('training failure: run failed with the Batch reason, nothing registered, requestor told, serving untouched', async () => {
    const run = runInfo(w.bucket, 'r-train');
    await putRun(w, run);
    const versionsBefore = await w.registry.versions.listVersions(MODEL);
    const cause = JSON.stringify({
      Status: 'FAILED',
      StatusReason: 'Essential container in task exited',
      Container: { Reason: 'target column "churned" is not in the dataset' },
    });

    const out = await record(
      failedState('training', { run, error: { Error: 'States.TaskFailed', Cause: cause } }),
    );

    expect(out).toEqual({
      kind: 'training',
      versionStatus: null,
      notified: expect.any(String),
      // The execution's cause (its Fail state's CausePath): what the CLI prints.
      cause:
        'training failed: States.TaskFailed: target column "churned" is not in the dataset — Essential container in task exited',
    });
    expect(await w.registry.runs.getRun(MODEL, 'r-train')).toMatchObject({
      status: 'failed',
      finishedAt: expect.any(String),
      failure: {
        kind: 'training',
        error: 'States.TaskFailed',
        cause:
          'States.TaskFailed: target column "churned" is not in the dataset — Essential container in task exited',
      },
    });
    expect(await w.registry.versions.listVersions(MODEL)).toEqual(versionsBefore);
    const alert = lastAlert();
    expect(alert).toContain('Subject: [mlcycle] churn → staging: training failed');
    expect(alert).toContain('Version: (not registered)');
    expect(alert).toContain(`Run: r-train`);
    expect(alert).toContain('The version serving this stage was not changed.');
    expect(await servingNow()).toBe(serving);
  });

  it('gate failure (the Choice default: no $.error): version rejected, run failed, serving untouched', async () => {
    const { run, version } = await registeredRun('r-gate');
    const out = await record({
      ...failedState('gate', { run, version }),
      gate: { ...passedGate('1.0.0'), passed: false },
    });
    expect(out).toEqual({
      kind: 'gate',
      versionStatus: 'rejected',
      notified: expect.any(String),
      cause: 'a required gate failed',
    });
    const v = await w.registry.versions.getVersion(MODEL, version);
    expect(v?.status).toBe('rejected');
    expect(v?.statusHistory.at(-1)).toMatchObject({
      from: 'validating',
      to: 'rejected',
      reason: 'a required gate failed',
      actor: 'mlcycle',
    });
    expect(await w.registry.runs.getRun(MODEL, 'r-gate')).toMatchObject({
      status: 'failed',
      failure: { kind: 'gate', error: 'a required gate failed', cause: '' },
    });
    expect(lastAlert()).toContain(`Subject: [mlcycle] churn ${version} → staging: a required gate failed`);
    expect(await servingNow()).toBe(serving);

    // Redelivered (a new execution): the status is already where it belongs, so nothing fails
    // and nothing moves.
    await record({ ...failedState('gate', { run, version }), gate: { ...passedGate(), passed: false } });
    expect((await w.registry.versions.getVersion(MODEL, version))?.statusHistory).toEqual(v?.statusHistory);
  });

  it('rejection: version rejected with the approver’s reason in the notice, serving untouched', async () => {
    const { run, version } = await registeredRun('r-reject');
    const out = await record(
      failedState('rejected', {
        run,
        version,
        error: { Error: 'ApprovalRejected', Cause: 'rejected by b@studio.test: AUC too close to noise' },
      }),
    );
    expect(out.versionStatus).toBe('rejected');
    expect((await w.registry.versions.getVersion(MODEL, version))?.status).toBe('rejected');
    expect(lastAlert()).toContain(
      'Detail: ApprovalRejected: rejected by b@studio.test: AUC too close to noise',
    );
    expect(await servingNow()).toBe(serving);
  });

  it('approval timeout: the pending request is marked expired, version rejected, serving untouched', async () => {
    const { run, version } = await registeredRun('r-timeout');
    const now = new Date().toISOString();
    await approvals.create({
      requestId: `req-${version}`,
      model: MODEL,
      version,
      stage: 'staging',
      runId: 'r-timeout',
      requestedBy: REQUESTOR,
      reason: '',
      approvers: ['a@studio.test', 'b@studio.test'],
      quorum: 2,
      status: 'pending',
      createdAt: now,
      expiresAt: now,
      reminderSecondsBeforeExpiry: 0,
      taskToken: 'token-timeout',
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:mlcycle:run-timeout',
      gate: passedGate('1.0.0'),
      metrics: METRICS,
      serving: null,
    });
    const out = await record(
      failedState('timeout', { run, version, error: { Error: 'States.Timeout', Cause: '' } }),
    );
    expect(out).toEqual({
      kind: 'timeout',
      versionStatus: 'rejected',
      notified: expect.any(String),
      cause: 'approval expired before quorum was reached: States.Timeout',
    });
    expect(await approvals.get(`req-${version}`)).toMatchObject({
      status: 'expired',
      outcomeNote: 'approval expired before quorum was reached',
    });
    expect((await w.registry.versions.getVersion(MODEL, version))?.status).toBe('rejected');
    expect(lastAlert()).toContain(`The approval request req-${version} was marked expired.`);
    expect(await servingNow()).toBe(serving);
  });

  it('deploy failure: version failed with the validation error, serving untouched', async () => {
    const { run, version } = await registeredRun('r-deploy');
    const out = await record(
      failedState('deploy', {
        run,
        version,
        error: {
          Error: 'ArtifactValidationError',
          Cause:
            '{"errorType":"ArtifactValidationError","errorMessage":"artifact s3://b/m.json does not exist"}',
        },
      }),
    );
    expect(out.versionStatus).toBe('failed');
    expect((await w.registry.versions.getVersion(MODEL, version))?.status).toBe('failed');
    expect((await w.registry.runs.getRun(MODEL, 'r-deploy'))?.failure).toEqual({
      kind: 'deploy',
      error: 'ArtifactValidationError',
      cause: 'ArtifactValidationError: artifact s3://b/m.json does not exist',
    });
    expect(await servingNow()).toBe(serving);
  });

  it('a failed promotion of an existing version leaves the version and the run that trained it as they were', async () => {
    const version = (await w.registry.stages.getStage(MODEL, 'staging'))?.version ?? '';
    const before = await registryScan();
    const executionArn = newExecution();
    // The state LoadCandidate built: $.run is the run that trained the version, long finished.
    const out = await record(
      failedState('rejected', {
        input: pipelineState({ stage: 'production', promote: version }),
        run: runInfo(w.bucket, 'r0'),
        version,
        error: { Error: 'ApprovalRejected', Cause: 'rejected by a@studio.test: not yet' },
      }),
      executionArn,
    );
    expect(out).toMatchObject({ kind: 'rejected' });
    expect(await registryScan()).toBe(before);
    // Only the failure of the execution is recorded, without the run (it is not this execution's).
    const recorded = await failures.get(executionArn);
    expect(recorded).toMatchObject({ kind: 'rejected', version, stage: 'production' });
    expect(recorded?.runId).toBeUndefined();
    expect(lastAlert()).toContain(
      `Subject: [mlcycle] churn ${version} → production: rejected by an approver`,
    );
  });

  it('preparation failure (no run, no registration): recorded with its cause and alerted, nothing else written', async () => {
    const before = await w.scan();
    const executionArn = newExecution();
    const out = await record(
      failedState('preparation', {
        input: pipelineState({ trigger: 'schedule', requestedBy: 'mlcycle-schedule' }),
        error: {
          Error: 'NotFoundError',
          Cause: `{"errorType":"NotFoundError","errorMessage":"no dataset under s3://${w.bucket}/datasets/churn/"}`,
        },
      }),
      executionArn,
    );
    expect(out).toEqual({
      kind: 'preparation',
      versionStatus: null,
      notified: expect.any(String),
      cause: `the run or promotion could not be started: NotFoundError: no dataset under s3://${w.bucket}/datasets/churn/`,
    });
    const alert = lastAlert();
    expect(alert).toContain('Subject: [mlcycle] churn → staging: the run or promotion could not be started');
    expect(alert).toContain(`Detail: NotFoundError: no dataset under s3://${w.bucket}/datasets/churn/`);
    expect(alert).toContain('Version: (not registered)');
    expect(await failures.get(executionArn)).toMatchObject({
      executionArn,
      model: MODEL,
      stage: 'staging',
      kind: 'preparation',
      summary: 'the run or promotion could not be started',
      detail: `NotFoundError: no dataset under s3://${w.bucket}/datasets/churn/`,
      recordedBy: 'recordFailure',
      alertedAt: expect.any(String),
      alertId: out.notified,
    });
    // Only the execution's failure record was added.
    const added = JSON.parse(await w.scan()).filter(
      (i: { PK: string }) => !JSON.parse(before).some((b: { PK: string }) => b.PK === i.PK),
    );
    expect(added.map((i: { PK: string; SK: string }) => `${i.PK}|${i.SK}`)).toEqual([
      `EXECUTION#${executionArn}|FAILURE`,
    ]);
  });

  it('retried by the ASL (same execution): records again, alerts once', async () => {
    const { run, version } = await registeredRun('r-retried');
    const executionArn = newExecution();
    const state = failedState('deploy', {
      run,
      version,
      error: { Error: 'ArtifactValidationError', Cause: 'checksum mismatch' },
    });
    const alerts = w.outbox().length;
    const first = await record(state, executionArn);
    const second = await record(state, executionArn);
    expect(first.notified).toEqual(expect.any(String));
    expect(second).toEqual({
      kind: 'deploy',
      versionStatus: 'failed',
      notified: null,
      cause: 'deployment validation or promotion failed: ArtifactValidationError: checksum mismatch',
    });
    expect(w.outbox()).toHaveLength(alerts + 1);
    expect((await w.registry.runs.getRun(MODEL, 'r-retried'))?.status).toBe('failed');
  });

  it('invalid input ⇒ ValidationError naming the field, nothing written', async () => {
    const before = await w.scan();
    const executionArn = newExecution();
    await expect(
      handler({ executionArn, state: { ...pipelineState(), failureKind: 'explosion' } }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('RecordFailure input: state.failureKind'),
    });
    await expect(
      handler({
        executionArn,
        state: { ...pipelineState(), failureKind: 'deploy', error: { Cause: 'no name' } },
      }),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('error.Error') });
    await expect(handler({ ...pipelineState(), failureKind: 'deploy' })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('executionArn'),
    });
    expect(await w.scan()).toBe(before);
  });
});
