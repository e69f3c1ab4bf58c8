import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StartStore } from '../../lambdas/adapters/pipeline/start-store.js';
import { ENV } from '../../lambdas/contracts/env.js';
import { pipelineRequestSchema } from '../../lambdas/contracts/pipeline.js';
import { admittedState } from '../../lambdas/domain/pipeline/admission.js';
import { admitExecution } from '../../lambdas/services/pipeline/admit.js';
import { LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { attachTrainers } from '../../local/trainers/config-trainers.js';
import { fixtureConfig, type HandlerWorld, handlerWorld, MODEL } from './fixtures.js';

/**
 * `--set` overrides are checked by the start service against the trainer schema of the deployed
 * config, not by the CLI alone: a caller that posts straight to POST /runs an override the CLI
 * would refuse gets a 400 naming the key and the value, and nothing is recorded or started.
 * The table is DynamoDB Local; Step Functions is a stub that records what it is asked.
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

describe('POST /runs with hyperparameter overrides (start service, server side)', () => {
  const deployed = attachTrainers(fixtureConfig());
  let w: HandlerWorld;
  let starts: StartStore;
  let startHttp: Http;
  const sfn = mockClient(SFNClient);

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

  it('an override the CLI would refuse, posted straight to the route, is a 400 naming key and value; nothing is recorded or started', async () => {
    const before = await w.scan();
    const attacks: [Record<string, unknown>, string][] = [
      [
        { learningRat: '0.5' },
        '--set learningRat="0.5": not a hyperparameter of containers/trainer; did you mean learningRate?',
      ],
      [
        { epochs: 1e9 },
        '--set epochs=1000000000: hyperparameter epochs: got 1000000000: 1000000000 is above the maximum 10000',
      ],
      [
        { schedule: 'rm -rf /' },
        '--set schedule="rm -rf /": hyperparameter schedule: got "rm -rf /": expected one of cosine, constant',
      ],
      [{ learningRate: 'fast' }, '--set learningRate="fast"'],
    ];
    for (const [overrides, message] of attacks) {
      const out = await startHttp(post('POST /runs', { model: MODEL, stage: 'staging', overrides }));
      expect(out.statusCode, out.body).toBe(400);
      expect(bodyOf(out).message).toContain(`model ${MODEL}: ${message}`);
    }
    // A promotion trains nothing: overrides there are refused too (the route does not even take them).
    const promotion = await startHttp(
      post('POST /promotions', {
        model: MODEL,
        version: '1.0.0',
        stage: 'staging',
        overrides: { epochs: 3 },
      }),
    );
    expect(promotion.statusCode, promotion.body).toBe(400);
    expect(await w.scan()).toBe(before);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('without a trainer schema in the deployed config, any override is refused: nothing could check it', async () => {
    w.deploy(fixtureConfig());
    try {
      const before = await w.scan();
      const out = await startHttp(
        post('POST /runs', { model: MODEL, stage: 'staging', overrides: { epochs: 3 } }),
      );
      expect(out.statusCode, out.body).toBe(400);
      expect(bodyOf(out).message).toContain('--set epochs=3 cannot be checked');
      expect(await w.scan()).toBe(before);
      expect(sfn.calls()).toHaveLength(0);
    } finally {
      w.deploy(deployed);
    }
  });

  it('valid overrides are coerced to the declared types, recorded with who set them, and applied by Admit', async () => {
    const out = await startHttp(
      post('POST /runs', {
        model: MODEL,
        stage: 'staging',
        overrides: { learningRate: '0.2', epochs: '9', schedule: 'constant' },
      }),
    );
    expect(out.statusCode, out.body).toBe(202);
    const { executionName, executionArn } = bodyOf(out) as { executionName: string; executionArn: string };
    const record = await starts.get(executionName);
    expect(record).toMatchObject({
      requestedBy: ACTOR,
      request: { overrides: { learningRate: 0.2, epochs: 9, schedule: 'constant' } },
    });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input.overrides).toEqual({ learningRate: 0.2, epochs: 9, schedule: 'constant' });
    // Admit builds the run's hyperparameters: the deployed ones with the overrides applied.
    const state = await admitExecution({ config: deployed, starts }, input, {
      arn: executionArn,
      name: executionName,
    });
    expect(state.training.hyperparameters).toEqual({
      epochs: 9,
      learningRate: 0.2,
      l2: 0.001,
      seed: 7,
      schedule: 'constant',
    });
    expect(state.overrides).toEqual({ learningRate: 0.2, epochs: 9, schedule: 'constant' });
    expect(state.requestedBy).toBe(ACTOR);
  });

  it('force: recorded as asked and carried by Admit to PrepareRun; not a boolean, or on a promotion, is a 400 starting nothing', async () => {
    const before = await w.scan();
    for (const [route, body] of [
      ['POST /runs', { model: MODEL, stage: 'staging', force: 'yes' }],
      ['POST /promotions', { model: MODEL, version: '1.0.0', stage: 'staging', force: true }],
    ] as const) {
      const out = await startHttp(post(route, body));
      expect(out.statusCode, out.body).toBe(400);
      expect(bodyOf(out).message).toMatch(/force/);
    }
    expect(await w.scan()).toBe(before);
    expect(sfn.calls()).toHaveLength(0);

    const out = await startHttp(post('POST /runs', { model: MODEL, stage: 'staging', force: true }));
    expect(out.statusCode, out.body).toBe(202);
    const { executionName, executionArn } = bodyOf(out) as { executionName: string; executionArn: string };
    expect((await starts.get(executionName))?.request.force).toBe(true);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input.force).toBe(true);
    const state = await admitExecution({ config: deployed, starts }, input, {
      arn: executionArn,
      name: executionName,
    });
    expect(state.force).toBe(true);
    // An input that says force when the caller did not ask for it is not admitted.
    await expect(
      admitExecution(
        { config: deployed, starts },
        { ...input, force: false },
        { arn: executionArn, name: executionName },
      ),
    ).rejects.toMatchObject({ name: 'ForbiddenError' });
  });

  it('rollout: refused on a run, on a stage serving nothing, or with a bad share; a good one is recorded and reaches Admit', async () => {
    const lineage = {
      parentVersion: null,
      datasetUri: `s3://${w.bucket}/datasets/${MODEL}/d.csv`,
      datasetSha256: 'd'.repeat(64),
      codeVersion: 'c0ffee1',
      runId: 'r-rollout',
      hyperparameters: {},
      framework: 'mlcycle-logreg@1.0.0',
      artifactUri: `s3://${w.bucket}/runs/${MODEL}/r-rollout/model.json`,
      artifactSha256: 'b'.repeat(64),
      author: ACTOR,
    };
    const [v1, v2] = [
      (await w.registry.versions.registerVersion({ model: MODEL, version: '7.0.0', lineage, metrics: {} }))
        .version,
      (await w.registry.versions.registerVersion({ model: MODEL, version: '7.1.0', lineage, metrics: {} }))
        .version,
    ];
    const before = await w.scan();
    for (const [route, body, message] of [
      ['POST /runs', { model: MODEL, stage: 'staging', rollout: { percent: 5 } }, /rollout/],
      [
        'POST /promotions',
        { model: MODEL, version: v2, stage: 'staging', rollout: { percent: 5 } },
        /serves nothing yet/,
      ],
      [
        'POST /promotions',
        { model: MODEL, version: v2, stage: 'staging', rollout: { percent: 0 } },
        /rollout\.percent/,
      ],
    ] as const) {
      const out = await startHttp(post(route, body));
      expect(out.statusCode, out.body).toBeGreaterThanOrEqual(400);
      expect(out.statusCode, out.body).toBeLessThan(500);
      expect(bodyOf(out).message).toMatch(message);
    }
    expect(await w.scan()).toBe(before);
    expect(sfn.calls()).toHaveLength(0);

    await w.registry.stages.promote({
      model: MODEL,
      stage: 'staging',
      version: v1,
      actor: ACTOR,
      reason: 'v1',
      action: 'promote',
    });
    const same = await startHttp(
      post('POST /promotions', { model: MODEL, version: v1, stage: 'staging', rollout: { percent: 5 } }),
    );
    expect(same.statusCode).toBe(409);
    expect(bodyOf(same).message).toMatch(/already serves 7\.0\.0/);

    const out = await startHttp(
      post('POST /promotions', { model: MODEL, version: v2, stage: 'staging', rollout: { percent: 12.5 } }),
    );
    expect(out.statusCode, out.body).toBe(202);
    const { executionName, executionArn } = bodyOf(out) as { executionName: string; executionArn: string };
    expect(executionName).toContain('-rollout-7-1-0-');
    expect((await starts.get(executionName))?.request.rollout).toEqual({ percent: 12.5 });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    const state = await admitExecution({ config: deployed, starts }, input, {
      arn: executionArn,
      name: executionName,
    });
    expect(state.rollout).toEqual({ percent: 12.5 });
    // An input whose share differs from what the caller asked is not admitted.
    await expect(
      admitExecution(
        { config: deployed, starts },
        { ...input, rollout: { percent: 100 } },
        { arn: executionArn, name: executionName },
      ),
    ).rejects.toMatchObject({ name: 'ForbiddenError' });
    // A plain promotion's state carries rollout: null, so the ASL can always pass it on.
    const plain = admittedState(
      deployed,
      {
        executionName: 'plain',
        request: pipelineRequestSchema.parse({ model: MODEL, stage: 'staging', promote: v1 }),
        requestedBy: ACTOR,
        trigger: 'manual',
        principal: null,
        startedAt: new Date().toISOString(),
      },
      { arn: 'arn:plain', name: 'plain' },
    );
    expect(plain.rollout).toBeNull();
  });
});
