import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StartStore } from '../../lambdas/adapters/pipeline/start-store.js';
import { ENV } from '../../lambdas/contracts/env.js';
import { admitExecution } from '../../lambdas/services/pipeline/admit.js';
import { LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { attachTrainers } from '../../local/trainers/config-trainers.js';
import { fixtureConfig, type HandlerWorld, handlerWorld, MODEL } from './fixtures.js';

/**
 * A sweep spec is checked by the start service against the deployed trainer schema, not by the
 * CLI alone, and an execution runs the trials planned from its start record, never trials its
 * input claims: a caller that posts straight to POST /runs, or starts an execution directly with
 * its own plan, gets nothing run. DynamoDB Local; Step Functions is a stub recording what it is asked.
 */

type Http = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const STATE_MACHINE = `arn:aws:states:${LOCAL_REGION}:000000000000:stateMachine:mlcycle-lifecycle`;
const ACTOR = 'scientist@studio.test';

function post(routeKey: 'POST /runs' | 'POST /promotions', body: unknown): APIGatewayProxyEventV2 {
  const path = routeKey.split(' ')[1] ?? '';
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'req',
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      authorizer: { lambda: { localActor: ACTOR } },
    },
  } as unknown as APIGatewayProxyEventV2;
}

const bodyOf = (r: APIGatewayProxyStructuredResultV2) =>
  JSON.parse(r.body ?? '{}') as Record<string, unknown>;

describe('POST /runs with a sweep (start service and Admit, server side)', () => {
  const deployed = attachTrainers(fixtureConfig());
  let w: HandlerWorld;
  let starts: StartStore;
  let startHttp: Http;
  const sfn = mockClient(SFNClient);
  const spec = {
    parameters: { learningRate: { logUniform: [0.001, 0.5] } },
    trials: 4,
    concurrency: 2,
    metric: 'auc',
    earlyStopping: { rule: 'asha', metric: 'trainLoss' },
  };

  beforeAll(async () => {
    w = await handlerWorld('startHttp', { [ENV.stateMachineArn]: STATE_MACHINE }, deployed);
    starts = new StartStore(w.dynamo.doc, w.table);
    ({ handler: startHttp } = (await import('../../lambdas/handlers/start-http.js')) as { handler: Http });
  });
  afterAll(async () => {
    sfn.restore();
    await w?.stop();
  });
  beforeEach(() => {
    sfn.reset();
    sfn.on(StartExecutionCommand).callsFake((input: { name?: string }) => ({
      executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${input.name}`,
      startDate: new Date(),
    }));
  });

  it('a spec the trainer schema refuses, posted straight to the route, is a 400 naming the key; nothing is recorded or started', async () => {
    const before = await w.scan();
    const attacks: [Record<string, unknown>, string][] = [
      [
        { ...spec, parameters: { learningRat: { grid: [0.1] } } },
        'sweep parameters.learningRat=0.1: not a hyperparameter',
      ],
      [{ ...spec, parameters: { epochs: { int: [1, 1e9] } } }, 'sweep parameters.epochs=1000000000'],
      [{ ...spec, concurrency: 500 }, 'concurrency'],
      [{ ...spec, metric: 'rmse' }, 'sweep metric rmse is not measured for churn'],
      // A plan instead of a spec (trials chosen by the caller) is not a spec.
      [{ ...spec, trials: [{ index: 0, overrides: {}, hyperparameters: { epochs: 1e9 } }] }, 'trials'],
    ];
    for (const [sweep, message] of attacks) {
      const out = await startHttp(post('POST /runs', { model: MODEL, stage: 'staging', sweep }));
      expect(out.statusCode, out.body).toBe(400);
      expect(bodyOf(out).message).toContain(message);
    }
    expect(await w.scan()).toBe(before);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('a valid sweep is recorded as asked and started as a sweep; Admit plans its trials from the record, never from the input', async () => {
    const out = await startHttp(post('POST /runs', { model: MODEL, stage: 'staging', sweep: spec }));
    expect(out.statusCode, out.body).toBe(202);
    const started = bodyOf(out) as { executionName: string; executionArn: string; sweep: unknown };
    expect(started.executionName).toMatch(/^churn-staging-sweep-/);
    expect(started.sweep).toEqual({ trials: 4, concurrency: 2 });
    expect((await starts.get(started.executionName))?.request.sweep).toMatchObject(spec);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    const execution = { arn: started.executionArn, name: started.executionName };
    const state = await admitExecution({ config: deployed, starts }, input, execution);
    expect(state.sweep?.concurrency).toBe(2);
    expect(state.sweep?.rules.id).toBe(started.executionName);
    expect(state.sweep?.trials).toHaveLength(4);
    for (const t of state.sweep?.trials ?? []) {
      expect(t.hyperparameters).toEqual({ ...state.training.hyperparameters, ...t.overrides });
    }
    // An input with another spec than the one recorded (more concurrency, another range) is not admitted.
    for (const forged of [
      { ...input, sweep: { ...input.sweep, concurrency: 20 } },
      { ...input, sweep: { ...input.sweep, parameters: { epochs: { grid: [10000] } } } },
      { ...input, sweep: undefined },
    ]) {
      await expect(admitExecution({ config: deployed, starts }, forged, execution)).rejects.toMatchObject({
        name: 'ForbiddenError',
      });
    }
  });

  it('a sweep on a promotion is refused: a promotion trains nothing', async () => {
    const before = await w.scan();
    const out = await startHttp(
      post('POST /promotions', { model: MODEL, version: '1.0.0', stage: 'staging', sweep: spec }),
    );
    expect(out.statusCode, out.body).toBe(400);
    expect(await w.scan()).toBe(before);
    expect(sfn.calls()).toHaveLength(0);
  });
});
