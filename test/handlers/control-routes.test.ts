import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { StartStore } from '../../lambdas/adapters/pipeline/start-store.js';
import { ENV } from '../../lambdas/contracts/env.js';
import type { ApprovalRequest } from '../../lambdas/domain/approval/types.js';
import { LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { apiEvent } from '../support/api-event.js';
import {
  CLIENT_BASE_URL,
  fixtureConfig,
  type HandlerWorld,
  handlerWorld,
  lineageFor,
  METRICS,
  MODEL,
  passedGate,
} from './fixtures.js';

/**
 * The control routes in IAM mode (as on AWS): the caller is only what API Gateway's IAM
 * authorizer established (`requestContext.authorizer.iam.userArn`), mapped to a person by the
 * deployed config's `identities`. No AWS here: the events are what API Gateway would deliver,
 * the table is DynamoDB Local, and Step Functions is a stub that records what it is asked.
 */

type Http = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const ACCOUNT = '111122223333';
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const APPROVER_ROLE = `arn:aws:iam::${ACCOUNT}:role/team/approver-b`;
const CAROL_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/Approvers/carol`;
const REQUESTOR_USER = `arn:aws:iam::${ACCOUNT}:user/scientist`;
const STRANGER_USER = `arn:aws:iam::${ACCOUNT}:user/stranger`;
const STATE_MACHINE = `arn:aws:states:${LOCAL_REGION}:000000000000:stateMachine:mlcycle-lifecycle`;

/**
 * The deployed config: production needs 2 of a@, b@ and c@; staging 1 of a@ and b@. a@ is an IAM
 * user, b@ every session of a role, c@ one session of a shared role; the scientist and the
 * stranger are mapped but approve nothing.
 */
const config = fixtureConfig({
  identities: {
    'a@studio.test': [ALICE],
    'b@studio.test': [APPROVER_ROLE],
    'c@studio.test': [CAROL_SESSION],
    'scientist@studio.test': [REQUESTOR_USER],
    'stranger@studio.test': [STRANGER_USER],
  },
});

/** A payload-2.0 event of an `iam` route, as API Gateway delivers it after its IAM authorizer. */
const event = (
  routeKey: string,
  options: {
    principal?: string;
    body?: unknown;
    id?: string;
    headers?: Record<string, string>;
    localActor?: string;
  } = {},
) => {
  const { id, ...rest } = options;
  return apiEvent(routeKey, { ...rest, ...(id ? { pathParameters: { id } } : {}) });
};

const bodyOf = (r: APIGatewayProxyStructuredResultV2) =>
  JSON.parse(r.body ?? '{}') as Record<string, unknown>;

describe('control routes in IAM mode (start-http, decision-http, registry-http)', () => {
  let w: HandlerWorld;
  let approvals: ApprovalStore;
  let starts: StartStore;
  let startHttp: Http;
  let decisionHttp: Http;
  let registryHttp: Http;
  const sfn = mockClient(SFNClient);
  let requests = 0;

  /** Every route and a body it would accept from someone allowed, for "refused for everyone" checks. */
  let everyRoute: [string, { body?: unknown; id?: string }][];

  async function pendingRequest(requestedBy: string, stage = 'production'): Promise<ApprovalRequest> {
    const requestId = `apr-iam-${++requests}-${Math.random().toString(36).slice(2, 8)}`;
    const production = stage === 'production';
    const request: ApprovalRequest = {
      requestId,
      model: MODEL,
      version: '1.0.0',
      stage,
      runId: 'r1',
      requestedBy,
      reason: 'better recall',
      approvers: production
        ? ['a@studio.test', 'b@studio.test', 'c@studio.test']
        : ['a@studio.test', 'b@studio.test'],
      quorum: production ? 2 : 1,
      status: 'pending',
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      reminderSecondsBeforeExpiry: 0,
      taskToken: `token-${requestId}`,
      executionArn: `arn:aws:states:${LOCAL_REGION}:000000000000:execution:mlcycle-lifecycle:${requestId}`,
      gate: passedGate(),
      metrics: METRICS,
      serving: null,
    };
    await approvals.create(request);
    return request;
  }

  const decide = (
    requestId: string,
    principal: string | undefined,
    extra: Parameters<typeof event>[1] = {},
  ) =>
    decisionHttp(
      event('POST /approvals/{id}/decisions', {
        id: requestId,
        ...(principal ? { principal } : {}),
        body: { decision: 'approve', comment: 'looks good' },
        ...extra,
      }),
    );

  beforeAll(async () => {
    w = await handlerWorld(
      'startHttp',
      { [ENV.authMode]: 'iam', [ENV.stateMachineArn]: STATE_MACHINE },
      config,
    );
    approvals = new ApprovalStore(w.dynamo.doc, w.table);
    starts = new StartStore(w.dynamo.doc, w.table);
    ({ handler: startHttp } = (await import('../../lambdas/handlers/start-http.js')) as { handler: Http });
    ({ handler: decisionHttp } = (await import('../../lambdas/handlers/decision-http.js')) as {
      handler: Http;
    });
    // registry-http also publishes to clients (rollbacks): its contract's one variable start-http lacks.
    process.env[ENV.clientBaseUrl] = CLIENT_BASE_URL;
    // …and notices a rollback on the alert topic, linking the model's status under the API's URL.
    process.env[ENV.alertTopicArn] = 'arn:aws:sns:us-east-1:000000000000:mlcycle-alerts';
    process.env[ENV.approvalBaseUrl] = 'https://api.mlcycle.test';
    process.env[ENV.outboxDir] = mkdtempSync(join(tmpdir(), 'mlcycle-notices-'));
    ({ handler: registryHttp } = (await import('../../lambdas/handlers/registry-http.js')) as {
      handler: Http;
    });
    // A servable version with a real artifact (for promotions and registrations).
    const body = 'weights';
    await w.objects.put({ bucket: w.bucket, key: `runs/${MODEL}/r1/model.json` }, body, 'application/json');
    await w.registry.versions.registerVersion({
      model: MODEL,
      version: '1.0.0',
      metrics: METRICS,
      lineage: lineageFor(w.bucket, 'r1', {
        artifactSha256: createHash('sha256').update(body).digest('hex'),
      }),
    });
    const pending = await pendingRequest('scientist@studio.test');
    everyRoute = [
      ['POST /runs', { body: { model: MODEL, stage: 'production', reason: 'x' } }],
      ['POST /promotions', { body: { model: MODEL, version: '1.0.0', stage: 'production', reason: 'x' } }],
      ['POST /rollbacks', { body: { model: MODEL, stage: 'production', reason: 'x' } }],
      [
        'POST /versions',
        {
          body: {
            model: MODEL,
            artifact: `s3://${w.bucket}/runs/${MODEL}/r1/model.json`,
            sha256: createHash('sha256').update(body).digest('hex'),
          },
        },
      ],
      ['GET /whoami', {}],
      ['POST /approvals/{id}/decisions', { id: pending.requestId, body: { decision: 'approve' } }],
    ];
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
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
  });

  /** The handler of a route key. */
  const handlerOf = (routeKey: string): Http =>
    routeKey.endsWith('/decisions')
      ? decisionHttp
      : routeKey.match(/\/(runs|promotions)$/)
        ? startHttp
        : registryHttp;

  it('an unmapped principal is refused on every route (403), naming the principal and what to do; nothing is written', async () => {
    const stranger = `arn:aws:iam::${ACCOUNT}:user/mallory`;
    const before = await w.scan();
    for (const [routeKey, options] of everyRoute) {
      const out = await handlerOf(routeKey)(event(routeKey, { principal: stranger, ...options }));
      expect(out.statusCode, `${routeKey}: ${out.body}`).toBe(403);
      expect(bodyOf(out)).toEqual({
        error: 'ForbiddenError',
        message: `${stranger} is not mapped to a person: add it under identities in mlcycle.config.yaml and redeploy`,
      });
    }
    expect(await w.scan()).toBe(before);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('a request without an IAM principal is refused on every route, whatever header or local actor it carries', async () => {
    const before = await w.scan();
    for (const [routeKey, options] of everyRoute) {
      for (const forged of [
        {},
        { headers: { 'x-mlcycle-actor': 'a@studio.test' } },
        { localActor: 'a@studio.test' },
        { headers: { 'x-mlcycle-actor': 'a@studio.test' }, localActor: 'a@studio.test' },
      ]) {
        const out = await handlerOf(routeKey)(event(routeKey, { ...options, ...forged }));
        expect(out.statusCode, `${routeKey}: ${out.body}`).toBe(403);
        expect(bodyOf(out).message).toBe('this route needs a SigV4-signed request (IAM); none was presented');
      }
    }
    expect(await w.scan()).toBe(before);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('GET /whoami: an IAM user, any session of a listed role, and a listed session are their person', async () => {
    const cases: [string, string][] = [
      [ALICE, 'a@studio.test'],
      [`arn:aws:sts::${ACCOUNT}:assumed-role/approver-b/bob-laptop`, 'b@studio.test'],
      [`arn:aws:sts::${ACCOUNT}:assumed-role/APPROVER-B/botocore-session-1700000000`, 'b@studio.test'],
      [CAROL_SESSION, 'c@studio.test'],
    ];
    for (const [principal, person] of cases) {
      const out = await registryHttp(event('GET /whoami', { principal }));
      expect(out.statusCode, out.body).toBe(200);
      expect(bodyOf(out)).toEqual({ person, principal });
    }
  });

  it('another role’s session, the listed role in another account or partition, or another session of a listed session is nobody', async () => {
    for (const principal of [
      `arn:aws:sts::${ACCOUNT}:assumed-role/approver-c/bob`,
      `arn:aws:sts::444455556666:assumed-role/approver-b/bob`,
      `arn:aws-cn:sts::${ACCOUNT}:assumed-role/approver-b/bob`,
      `arn:aws:sts::${ACCOUNT}:assumed-role/Approvers/mallory`,
      // The role itself is not a caller API Gateway reports, and a user named like the role is not it.
      `arn:aws:iam::${ACCOUNT}:user/approver-b`,
      `arn:aws:iam::${ACCOUNT}:user/Alice`,
    ]) {
      const out = await registryHttp(event('GET /whoami', { principal }));
      expect(out.statusCode, principal).toBe(403);
      expect(bodyOf(out).message).toContain(`${principal} is not mapped to a person`);
    }
  });

  it('a mapped principal approves as that person, through the decision service', async () => {
    const request = await pendingRequest('scientist@studio.test');
    const out = await decide(request.requestId, ALICE);
    expect(out.statusCode, out.body).toBe(200);
    expect(bodyOf(out)).toMatchObject({
      requestId: request.requestId,
      approver: 'a@studio.test',
      decision: 'approve',
      outcome: 'waiting',
      approvals: 1,
      needed: 2,
    });
    // A session of b@'s role completes the quorum as b@: the callback goes to Step Functions.
    const second = await decide(request.requestId, `arn:aws:sts::${ACCOUNT}:assumed-role/approver-b/bob`);
    expect(second.statusCode, second.body).toBe(200);
    expect(bodyOf(second)).toMatchObject({ approver: 'b@studio.test', outcome: 'approved', approvals: 2 });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect((await approvals.decisions(request.requestId)).map((d) => [d.approver, d.via])).toEqual([
      ['a@studio.test', 'cli'],
      ['b@studio.test', 'cli'],
    ]);
  });

  it('the requestor’s principal may not approve their own promotion; a mapped non-approver may not decide', async () => {
    const request = await pendingRequest('c@studio.test');
    const before = await w.scan();
    const own = await decide(request.requestId, CAROL_SESSION);
    expect(own.statusCode).toBe(403);
    expect(bodyOf(own).message).toBe(
      'c@studio.test asked for this promotion and so may not approve or reject it',
    );
    const stranger = await decide(request.requestId, STRANGER_USER);
    expect(stranger.statusCode).toBe(403);
    expect(bodyOf(stranger).message).toMatch(/^stranger@studio\.test is not an approver of production/);
    expect(await w.scan()).toBe(before);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('a forged x-mlcycle-actor header or lambda.localActor beside a real principal is ignored: the principal decides', async () => {
    const request = await pendingRequest('scientist@studio.test');
    const before = await w.scan();
    const forged = await decide(request.requestId, STRANGER_USER, {
      headers: { 'x-mlcycle-actor': 'a@studio.test' },
      localActor: 'b@studio.test',
    });
    expect(forged.statusCode).toBe(403);
    expect(bodyOf(forged).message).toMatch(/^stranger@studio\.test is not an approver/);
    expect(await w.scan()).toBe(before);
    // The requestor naming an approver in the header is still the requestor.
    const who = await registryHttp(
      event('GET /whoami', { principal: REQUESTOR_USER, headers: { 'x-mlcycle-actor': 'a@studio.test' } }),
    );
    expect(bodyOf(who)).toEqual({ person: 'scientist@studio.test', principal: REQUESTOR_USER });
  });

  it('POST /runs and POST /promotions record the mapped person and principal as who asked; the execution input carries neither', async () => {
    const run = await startHttp(
      event('POST /runs', {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/approver-b/bob`,
        body: { model: MODEL, stage: 'production', reason: 'weekly' },
      }),
    );
    expect(run.statusCode, run.body).toBe(202);
    const promotion = await startHttp(
      event('POST /promotions', {
        principal: REQUESTOR_USER,
        body: { model: MODEL, version: '1.0.0', stage: 'production', reason: 'ship it' },
      }),
    );
    expect(promotion.statusCode, promotion.body).toBe(202);
    const started = [bodyOf(run), bodyOf(promotion)] as { executionName: string; requestedBy: string }[];
    expect(started.map((s) => s.requestedBy)).toEqual(['b@studio.test', 'scientist@studio.test']);
    expect(await starts.get(started[0]?.executionName ?? '')).toMatchObject({
      requestedBy: 'b@studio.test',
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/approver-b/bob`,
      trigger: 'manual',
      request: { model: MODEL, stage: 'production', reason: 'weekly', promote: '' },
    });
    expect(await starts.get(started[1]?.executionName ?? '')).toMatchObject({
      requestedBy: 'scientist@studio.test',
      principal: REQUESTOR_USER,
      request: { model: MODEL, stage: 'production', promote: '1.0.0' },
    });
    const inputs = sfn
      .commandCalls(StartExecutionCommand)
      .map((c) => JSON.parse(c.args[0].input.input ?? '{}'));
    expect(inputs).toHaveLength(2);
    for (const input of inputs) {
      expect(Object.keys(input).sort()).toEqual([
        'bump',
        'dataset',
        'model',
        'overrides',
        'promote',
        'reason',
        'stage',
        'version',
      ]);
    }
  });

  it('a body that names who asks, or a policy, is refused (400) and starts nothing', async () => {
    const before = await w.scan();
    for (const extra of [{ requestedBy: 'a@studio.test' }, { policy: { quorum: 0 } }, { approvers: [] }]) {
      const out = await startHttp(
        event('POST /promotions', {
          principal: REQUESTOR_USER,
          body: { model: MODEL, version: '1.0.0', stage: 'production', ...extra },
        }),
      );
      expect(out.statusCode, out.body).toBe(400);
      expect(bodyOf(out).message).toContain(Object.keys(extra)[0]);
    }
    expect(await w.scan()).toBe(before);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('POST /rollbacks by a principal mapped to a non-rollbacker is refused (403); an approver’s gets past the check', async () => {
    const before = await w.scan();
    const body = { model: MODEL, stage: 'production', reason: 'dashboards regressed' };
    for (const principal of [STRANGER_USER, REQUESTOR_USER]) {
      const out = await registryHttp(event('POST /rollbacks', { principal, body }));
      expect(out.statusCode, out.body).toBe(403);
      expect(bodyOf(out).message).toMatch(
        /^(stranger|scientist)@studio\.test may not roll back production \(allowed: a@studio\.test, b@studio\.test, c@studio\.test;/,
      );
    }
    // An approver is allowed to roll back; here nothing serves production, which is the answer.
    const allowed = await registryHttp(event('POST /rollbacks', { principal: ALICE, body }));
    expect(allowed.statusCode).toBe(400);
    expect(bodyOf(allowed).message).toBe(
      'nothing serves churn in production, so there is nothing to roll back',
    );
    expect(await w.scan()).toBe(before);
  });

  it('POST /versions records the mapped person as the author', async () => {
    const out = await registryHttp(
      event('POST /versions', {
        principal: REQUESTOR_USER,
        body: {
          model: MODEL,
          artifact: `s3://${w.bucket}/runs/${MODEL}/r1/model.json`,
          sha256: createHash('sha256').update('weights').digest('hex'),
          metrics: { auc: 0.99 },
        },
      }),
    );
    expect(out.statusCode, out.body).toBe(201);
    expect(bodyOf(out)).toMatchObject({
      metrics: {},
      reportedMetrics: { auc: 0.99 },
      lineage: { author: 'scientist@studio.test' },
    });
  });
});
