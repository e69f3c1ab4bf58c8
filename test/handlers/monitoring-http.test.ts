import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftStore } from '../../lambdas/adapters/drift/drift-store.js';
import { ENV } from '../../lambdas/contracts/env.js';
import { baselineSnapshotKey } from '../../lambdas/contracts/s3-layout.js';
import { apiEvent } from '../support/api-event.js';
import { fixtureConfig, type HandlerWorld, handlerWorld, MODEL } from './fixtures.js';

/**
 * The baseline routes in IAM mode (as on AWS): who decides is the principal API Gateway's IAM
 * authorizer established, mapped by the deployed config's identities — never a field of the body.
 */
type Http = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const ACCOUNT = '111122223333';
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const config = fixtureConfig({ identities: { 'a@studio.test': [ALICE] } });

const event = (
  routeKey: string,
  options: { principal?: string; model?: string; body?: unknown; localActor?: string } = {},
) => {
  const { model = MODEL, ...rest } = options;
  return apiEvent(routeKey, { ...rest, pathParameters: { model } });
};

const bodyOf = (r: APIGatewayProxyStructuredResultV2) =>
  JSON.parse(r.body ?? '{}') as Record<string, unknown>;

describe('monitoring-http (baseline versions) in IAM mode', () => {
  let w: HandlerWorld;
  let http: Http;
  let store: DriftStore;

  beforeAll(async () => {
    w = await handlerWorld('monitoringHttp', { [ENV.authMode]: 'iam' }, config);
    store = new DriftStore(w.dynamo.doc, w.table);
    ({ handler: http } = (await import('../../lambdas/handlers/monitoring-http.js')) as { handler: Http });
    for (const [id, at] of [
      ['aaaaaaaaaaaa', '2026-11-01T00:00:00.000Z'],
      ['bbbbbbbbbbbb', '2026-11-02T00:00:00.000Z'],
    ] as const) {
      const profileKey = baselineSnapshotKey(MODEL, id);
      await w.objects.putJson({ bucket: w.bucket, key: profileKey }, { rows: 10, id });
      const version = {
        model: MODEL,
        id,
        sourceKey: `monitoring/${MODEL}/baseline/${id}.csv`,
        profileKey,
        rows: 10,
        columns: 1,
        kinds: { churned: 'numeric' as const },
        uploadedAt: at,
        uploadedBy: 'S3 upload',
      };
      await store.versions.put(version);
      await store.putBaseline({ ...version, createdAt: at });
    }
  });
  afterAll(async () => {
    await w?.stop();
  });

  const use = { id: 'aaaaaaaaaaaa', reason: 'b was a test export' };

  it('refuses a request without a signature or from an unmapped principal (403), writing nothing', async () => {
    const before = await w.scan();
    for (const options of [
      {},
      { principal: `arn:aws:iam::${ACCOUNT}:user/mallory` },
      { localActor: 'a@studio.test' },
    ]) {
      const out = await http(event('POST /drift/{model}/baselines/use', { ...options, body: use }));
      expect(out.statusCode, JSON.stringify(options)).toBe(403);
    }
    expect(await w.scan()).toBe(before);
  });

  it('refuses an actor named in the body (400): who decides is the signature', async () => {
    const before = await w.scan();
    const out = await http(
      event('POST /drift/{model}/baselines/use', {
        principal: ALICE,
        body: { ...use, actor: 'boss@studio.test' },
      }),
    );
    expect(out.statusCode).toBe(400);
    expect(bodyOf(out).message).toMatch(/actor/);
    expect(await w.scan()).toBe(before);
  });

  it('refuses discarding the active baseline (409), naming what to do, writing nothing', async () => {
    const before = await w.scan();
    const out = await http(
      event('POST /drift/{model}/baselines/discard', {
        principal: ALICE,
        body: { id: 'bbbbbbbbbbbb', reason: 'x' },
      }),
    );
    expect(out.statusCode).toBe(409);
    expect(bodyOf(out)).toMatchObject({
      error: 'ConflictError',
      message: expect.stringMatching(/use-baseline/),
    });
    expect(await w.scan()).toBe(before);
  });

  it('uses an earlier baseline as the signed caller, and lists it active with the audit entry', async () => {
    const out = await http(event('POST /drift/{model}/baselines/use', { principal: ALICE, body: use }));
    expect(out.statusCode, out.body).toBe(200);
    const listed = await http(event('GET /drift/{model}/baselines', { principal: ALICE }));
    expect(listed.statusCode).toBe(200);
    expect(bodyOf(listed)).toMatchObject({
      active: 'aaaaaaaaaaaa',
      audit: [{ action: 'use-baseline', actor: 'a@studio.test', principal: ALICE, previous: 'bbbbbbbbbbbb' }],
    });
    const unknown = await http(event('GET /drift/{model}/baselines', { principal: ALICE, model: 'ltv' }));
    expect(unknown.statusCode).toBe(404);
  });
});
