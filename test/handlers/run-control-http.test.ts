import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/contracts/env.js';
import { apiEvent } from '../support/api-event.js';
import {
  EXECUTION_ARN,
  fixtureConfig,
  type HandlerWorld,
  handlerWorld,
  MODEL,
  pipelineState,
  putRun,
  REQUESTOR,
  runInfo,
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

describe('run-control-http: POST /runs/{model}/{run}/cancel in IAM mode', () => {
  let w: HandlerWorld;
  let http: Http;
  const sfn = mockClient(SFNClient);

  beforeAll(async () => {
    w = await handlerWorld('runControlHttp', { [ENV.authMode]: 'iam' }, config);
    ({ handler: http } = (await import('../../lambdas/handlers/run-control-http.js')) as { handler: Http });
  });
  afterAll(async () => {
    sfn.restore();
    await w?.stop();
  });
  beforeEach(() => {
    sfn.reset();
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
});
