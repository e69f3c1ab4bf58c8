import { BatchClient, ListJobsCommand, TerminateJobCommand } from '@aws-sdk/client-batch';
import { DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { BatchJobControl } from '../../lambdas/adapters/pipeline/job-control.js';
import { StartStore } from '../../lambdas/adapters/pipeline/start-store.js';
import { Executions } from '../../lambdas/adapters/stepfunctions/executions.js';
import { ENV } from '../../lambdas/contracts/env.js';
import { pipelineRequestSchema } from '../../lambdas/contracts/pipeline.js';
import { executionArnOf } from '../../lambdas/contracts/state-machine.js';
import type { RunStatus } from '../../lambdas/domain/registry/types.js';
import { makeRunControlHttpHandler } from '../../lambdas/handlers/run-control-http.js';
import { apiEvent } from '../support/api-event.js';
import {
  EXECUTION_ARN,
  fixtureConfig,
  type HandlerWorld,
  handlerWorld,
  MODEL,
  pipelineState,
  putRun,
  putTrialRun,
  REQUESTOR,
  runInfo,
  STATE_MACHINE_ARN,
} from './fixtures.js';

/**
 * POST /runs/{model}/{run}/cancel in IAM mode (as on AWS): who cancels is the principal API
 * Gateway's IAM authorizer established, mapped to a person by the deployed config, never a field
 * of the body; only the run's requester and its stage's approvers may. Step Functions is the SDK
 * mock, which records the StopExecution it is sent.
 */
type Http = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const ACCOUNT = '111122223333';
const principal = (user: string) => `arn:aws:iam::${ACCOUNT}:user/${user}`;
const config = fixtureConfig({
  identities: {
    [REQUESTOR]: [principal('lead')],
    'a@studio.test': [principal('alice')],
    'mallory@studio.test': [principal('mallory')],
  },
});

const cancel = (runId: string, options: { principal?: string; body?: unknown } = {}) =>
  apiEvent('POST /runs/{model}/{run}/cancel', {
    principal: options.principal,
    pathParameters: { model: MODEL, run: runId },
    body: options.body ?? { reason: 'wrong dataset' },
  });

const bodyOf = (r: APIGatewayProxyStructuredResultV2) =>
  JSON.parse(r.body ?? '{}') as Record<string, unknown>;

const stop = (id: string, options: { principal?: string; body?: unknown } = {}) =>
  apiEvent('POST /sweeps/{id}/stop', {
    principal: options.principal,
    pathParameters: { id },
    body: options.body ?? { reason: 'wrong dataset' },
  });

/**
 * POST /sweeps/{id}/stop in IAM mode (as on AWS): who stops a sweep is the principal API
 * Gateway's IAM authorizer established, mapped to a person by the deployed config — the person
 * who started it (its start record, written server side) or one who governs its stage. Step
 * Functions is the SDK mock: the execution's status it describes, the StopExecution it is sent.
 */
describe('run-control-http: POST /runs/{model}/{run}/cancel and POST /sweeps/{id}/stop in IAM mode', () => {
  let w: HandlerWorld;
  let http: Http;
  const sfn = mockClient(SFNClient);
  const batch = mockClient(BatchClient);
  let starts: StartStore;
  let n = 0;

  beforeAll(async () => {
    w = await handlerWorld('runControlHttp', { [ENV.authMode]: 'iam' }, config);
    starts = new StartStore(w.dynamo.doc, w.table);
    ({ handler: http } = (await import('../../lambdas/handlers/run-control-http.js')) as { handler: Http });
  });
  afterAll(async () => {
    sfn.restore();
    batch.restore();
    await w?.stop();
  });
  beforeEach(() => {
    sfn.reset();
    batch.reset();
    batch.on(ListJobsCommand).resolves({ jobSummaryList: [] });
    batch.on(TerminateJobCommand).resolves({});
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
  });

  async function training(runId: string) {
    const run = { ...runInfo(w.bucket, runId), runId };
    await putRun(w, run, pipelineState());
    await w.registry.runs.updateRun(MODEL, runId, { executionArn: `${EXECUTION_ARN}-${runId}` });
  }

  it('another person is refused (403), and so is an unsigned request or an actor in the body (400); nothing written, nothing stopped', async () => {
    await training('run-a');
    const before = await w.scan();
    const refused = await http(cancel('run-a', { principal: principal('mallory') }));
    expect(refused.statusCode).toBe(403);
    expect(bodyOf(refused).message).toMatch(/mallory@studio\.test may not cancel run run-a of churn/);
    expect((await http(cancel('run-a'))).statusCode).toBe(403);
    const smuggled = await http(
      cancel('run-a', { principal: principal('mallory'), body: { reason: 'x', actor: REQUESTOR } }),
    );
    expect(smuggled.statusCode).toBe(400);
    expect(await w.scan()).toBe(before);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });

  it('the requester cancels (200): the run is cancelled and its execution stopped with a cause naming who and why', async () => {
    await training('run-b');
    const out = await http(cancel('run-b', { principal: principal('lead') }));
    expect(out.statusCode).toBe(200);
    expect(bodyOf(out)).toMatchObject({ status: 'cancelled', was: 'training', executionStopped: true });
    const run = await w.registry.runs.getRun(MODEL, 'run-b');
    expect(run?.status).toBe('cancelled');
    expect(run?.cancelled).toMatchObject({ by: REQUESTOR, reason: 'wrong dataset' });
    const [call] = sfn.commandCalls(StopExecutionCommand);
    expect(call?.args[0].input).toEqual({
      executionArn: `${EXECUTION_ARN}-run-b`,
      error: 'mlcycle.RunCancelled',
      cause: `run run-b cancelled by ${REQUESTOR}: wrong dataset`,
    });
  });

  it('an approver of the run’s stage may cancel; an ended run is a 409 naming its status, an unknown one a 404', async () => {
    await training('run-c');
    expect((await http(cancel('run-c', { principal: principal('alice') }))).statusCode).toBe(200);
    const again = await http(cancel('run-c', { principal: principal('lead') }));
    expect(again.statusCode).toBe(409);
    expect(bodyOf(again).message).toMatch(
      /has already ended: it is cancelled \(by a@studio\.test: wrong dataset\)/,
    );
    const unknown = await http(cancel('no-such-run', { principal: principal('lead') }));
    expect(unknown.statusCode).toBe(404);
    expect(bodyOf(unknown).message).toMatch(/no run no-such-run of churn/);
  });

  it('a sweep trial is cancelled alone (200): its training job terminated with who and why, the sweep’s execution not stopped', async () => {
    const sweepId = 'churn-staging-sweep-20300109T000000000Z-cd34';
    const runId = '20300109T000001Z-t1';
    await putTrialRun(w, {
      sweepId,
      trial: 1,
      runId,
      status: 'training',
      executionArn: executionArnOf(STATE_MACHINE_ARN, sweepId),
    });
    batch
      .on(ListJobsCommand, { filters: [{ name: 'JOB_NAME', values: [`mlcycle-${MODEL}-${runId}`] }] })
      .resolves({
        jobSummaryList: [{ jobId: 'job-1', jobName: `mlcycle-${MODEL}-${runId}`, status: 'RUNNING' }],
      });
    const out = await http(
      apiEvent('POST /runs/{model}/{run}/cancel', {
        principal: principal('lead'),
        pathParameters: { model: MODEL, run: runId },
        body: { reason: 'wrong l2' },
      }),
    );
    expect(out.statusCode).toBe(200);
    expect(bodyOf(out)).toMatchObject({
      was: 'training',
      executionStopped: false,
      trialOf: { sweepId, trial: 1, jobsStopped: ['job-1'] },
    });
    expect(batch.commandCalls(TerminateJobCommand).map((c) => c.args[0].input)).toEqual([
      { jobId: 'job-1', reason: `mlcycle: run ${runId} cancelled by ${REQUESTOR}: wrong l2` },
    ]);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });

  /** A sweep started by REQUESTOR whose trials have the given statuses (trial i = statuses[i]). */
  async function sweepWith(statuses: readonly RunStatus[], extra: Record<string, unknown> = {}) {
    const id = `churn-staging-sweep-2030010${++n}T000000000Z-ab12`;
    await starts.put({
      executionName: id,
      request: pipelineRequestSchema.parse({
        model: MODEL,
        stage: 'staging',
        sweep: { parameters: { l2: { grid: [0, 0.1] } }, strategy: 'grid', trials: 2, metric: 'auc' },
      }),
      requestedBy: REQUESTOR,
      trigger: 'manual',
      principal: principal('lead'),
      startedAt: '2030-01-01T00:00:00.000Z',
    });
    const runIds: string[] = [];
    for (const [trial, status] of statuses.entries()) {
      const runId = `2030010${n}T00000${trial}Z-t${trial}`;
      runIds.push(runId);
      const executionArn = executionArnOf(STATE_MACHINE_ARN, id);
      await putTrialRun(w, { sweepId: id, trial, runId, status, executionArn, ...extra });
    }
    return { id, runIds };
  }

  it('sweep stop: another person is refused (403), and so is an unsigned request or an actor in the body (400); nothing written, nothing stopped', async () => {
    const { id } = await sweepWith(['training', 'training']);
    const before = await w.scan();
    const refused = await http(stop(id, { principal: principal('mallory') }));
    expect(refused.statusCode).toBe(403);
    expect(bodyOf(refused).message).toMatch(/mallory@studio\.test may not stop sweep churn-staging-sweep-/);
    expect((await http(stop(id))).statusCode).toBe(403);
    const smuggled = await http(
      stop(id, { principal: principal('mallory'), body: { reason: 'x', actor: REQUESTOR } }),
    );
    expect(smuggled.statusCode).toBe(400);
    expect(await w.scan()).toBe(before);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });

  it('sweep stop: who started it stops it (200): trials going are cancelled with who and why, ended ones kept, the execution stopped with the cause', async () => {
    const { id, runIds } = await sweepWith(['training', 'evaluated', 'evaluating']);
    const out = await http(stop(id, { principal: principal('lead') }));
    expect(out.statusCode).toBe(200);
    expect(bodyOf(out)).toMatchObject({
      sweepId: id,
      model: MODEL,
      stopped: { by: REQUESTOR, reason: 'wrong dataset' },
      trialsCancelled: [
        { trial: 0, runId: runIds[0], was: 'training' },
        { trial: 2, runId: runIds[2], was: 'evaluating' },
      ],
    });
    const statuses = await Promise.all(
      runIds.map(async (r) => (await w.registry.runs.getRun(MODEL, r))?.status),
    );
    expect(statuses).toEqual(['cancelled', 'evaluated', 'cancelled']);
    expect((await w.registry.runs.getRun(MODEL, runIds[0] as string))?.cancelled).toMatchObject({
      by: REQUESTOR,
      reason: 'wrong dataset',
    });
    expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([
      {
        executionArn: executionArnOf(STATE_MACHINE_ARN, id),
        error: 'mlcycle.SweepStopped',
        cause: `sweep ${id} stopped by ${REQUESTOR}: wrong dataset`,
      },
    ]);
  });

  it('sweep stop: an approver of the stage may stop it; an ended sweep is a 409 naming how, an unknown or non-sweep execution a 404', async () => {
    const { id } = await sweepWith(['training']);
    expect((await http(stop(id, { principal: principal('alice') }))).statusCode).toBe(200);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });
    const again = await http(stop(id, { principal: principal('lead') }));
    expect(again.statusCode).toBe(409);
    expect(bodyOf(again).message).toMatch(
      /sweep churn-staging-sweep-\S+ has already ended: ABORTED; nothing to stop/,
    );
    const unknown = await http(stop('churn-staging-sweep-nope', { principal: principal('lead') }));
    expect(unknown.statusCode).toBe(404);
    expect(bodyOf(unknown).message).toMatch(/no sweep churn-staging-sweep-nope: `mlcycle sweep list`/);
    await starts.put({
      executionName: 'churn-staging-manual-1',
      request: pipelineRequestSchema.parse({ model: MODEL, stage: 'staging' }),
      requestedBy: REQUESTOR,
      trigger: 'manual',
      principal: null,
      startedAt: '2030-01-01T00:00:00.000Z',
    });
    expect((await http(stop('churn-staging-manual-1', { principal: principal('lead') }))).statusCode).toBe(
      404,
    );
  });

  it('sweep stop: Step Functions refusing the stop leaves every trial as it was, and the caller gets the error', async () => {
    const { id, runIds } = await sweepWith(['training', 'evaluating']);
    sfn
      .on(StopExecutionCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const out = await http(stop(id, { principal: principal('lead') }));
    expect(out.statusCode).toBeGreaterThanOrEqual(500);
    const statuses = await Promise.all(
      runIds.map(async (r) => (await w.registry.runs.getRun(MODEL, r))?.status),
    );
    expect(statuses).toEqual(['training', 'evaluating']);
  });

  it('sweep stop: a sweep whose chosen version is being deployed (its stage needs no approval) is refused, pointing at rollback; nothing cancelled', async () => {
    const { id, runIds } = await sweepWith(['registered'], { version: '1.0.0' });
    const noApproval = fixtureConfig({
      identities: config.identities,
      environments: { staging: { approvers: [], quorum: 0 } },
    });
    const deploying = makeRunControlHttpHandler(() => ({
      authMode: 'iam',
      config: () => noApproval,
      registry: w.registry,
      approvals: new ApprovalStore(w.dynamo.doc, w.table),
      starts,
      jobs: new BatchJobControl(new BatchClient({}), 'queue'),
      executions: new Executions(new SFNClient({})),
      stateMachineArn: STATE_MACHINE_ARN,
    }));
    const out = (await deploying(
      stop(id, { principal: principal('lead') }),
      {} as never,
    )) as APIGatewayProxyStructuredResultV2;
    expect(out.statusCode).toBe(409);
    expect(bodyOf(out).message).toMatch(
      /is being deployed: it can no longer be cancelled; .*models rollback/,
    );
    expect((await w.registry.runs.getRun(MODEL, runIds[0] as string))?.status).toBe('registered');
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });
});
