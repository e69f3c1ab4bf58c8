import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/contracts/env.js';
import { startRollout } from '../../lambdas/services/rollouts/start.js';
import { apiEvent } from '../support/api-event.js';
import {
  CLIENT_BASE_URL,
  fixtureConfig,
  type HandlerWorld,
  handlerWorld,
  lineageFor,
  MODEL,
  sha256,
} from './fixtures.js';

/**
 * rolloutHttp in IAM mode (as on AWS): who ramps or aborts is the principal API Gateway's IAM
 * authorizer established, mapped by the deployed config — never a field of the body — and may
 * only if the deployed policy of the stage says so.
 */
type Http = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const ACCOUNT = '111122223333';
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const MALLORY = `arn:aws:iam::${ACCOUNT}:user/mallory`;
// a@ approves staging; m@ is a known person who approves nothing.
const config = fixtureConfig({ identities: { 'a@studio.test': [ALICE], 'm@studio.test': [MALLORY] } });

const event = (routeKey: string, options: { principal?: string; body?: unknown } = {}) =>
  apiEvent(routeKey, { ...options, pathParameters: { model: MODEL, stage: 'staging' } });

const bodyOf = (r: APIGatewayProxyStructuredResultV2) =>
  JSON.parse(r.body ?? '{}') as Record<string, unknown>;

describe('rollout-http in IAM mode', () => {
  let w: HandlerWorld;
  let http: Http;

  beforeAll(async () => {
    w = await handlerWorld('rolloutHttp', { [ENV.authMode]: 'iam' }, config);
    ({ handler: http } = (await import('../../lambdas/handlers/rollout-http.js')) as { handler: Http });
    const versions: string[] = [];
    for (const runId of ['r1', 'r2']) {
      const body = `weights of ${runId}`;
      await w.objects.put(
        { bucket: w.bucket, key: `runs/${MODEL}/${runId}/model.json` },
        body,
        'application/json',
      );
      const lineage = lineageFor(w.bucket, runId, { artifactSha256: sha256(body) });
      versions.push(
        (await w.registry.versions.registerVersion({ model: MODEL, bump: 'minor', lineage, metrics: {} }))
          .version,
      );
    }
    const [v1, v2] = versions as [string, string];
    await w.registry.stages.promote({
      model: MODEL,
      stage: 'staging',
      version: v1,
      actor: 'a@studio.test',
      reason: 'v1',
      action: 'promote',
    });
    const deps = {
      registry: w.registry,
      objects: w.objects,
      bucket: w.bucket,
      clientBaseUrl: CLIENT_BASE_URL,
    };
    await startRollout(deps, {
      model: MODEL,
      stage: 'staging',
      version: v2,
      percent: 5,
      actor: 'a@studio.test',
      reason: '',
      approval: null,
    });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('refuses a ramp or abort without a signature, or by someone the stage does not allow (403), writing nothing', async () => {
    const [table, objects] = [await w.scan(), await w.s3Snapshot()];
    for (const principal of [undefined, MALLORY, `arn:aws:iam::${ACCOUNT}:user/unmapped`]) {
      const opts = principal ? { principal } : {};
      const ramp = await http(
        event('POST /rollouts/{model}/{stage}/ramp', { ...opts, body: { percent: 50, reason: 'x' } }),
      );
      expect(ramp.statusCode, String(principal)).toBe(403);
      const abort = await http(
        event('POST /rollouts/{model}/{stage}/abort', { ...opts, body: { reason: 'x' } }),
      );
      expect(abort.statusCode, String(principal)).toBe(403);
    }
    expect(await w.scan()).toBe(table);
    expect(await w.s3Snapshot()).toBe(objects);
  });

  it('refuses a body that names its own actor or carries unknown keys (400)', async () => {
    const out = await http(
      event('POST /rollouts/{model}/{stage}/ramp', {
        principal: MALLORY,
        body: { percent: 50, reason: 'x', actor: 'a@studio.test' },
      }),
    );
    expect(out.statusCode).toBe(400);
    expect(String(bodyOf(out).message)).toMatch(/actor/);
  });

  it('status, a ramp by the approver, a refused shrink (409), then an abort', async () => {
    const status = await http(event('GET /rollouts/{model}/{stage}', { principal: MALLORY }));
    expect(status.statusCode).toBe(200);
    expect(bodyOf(status)).toMatchObject({ percent: 5, decision: { action: 'continue' } });

    const ramp = await http(
      event('POST /rollouts/{model}/{stage}/ramp', { principal: ALICE, body: { percent: 20, reason: 'ok' } }),
    );
    expect(ramp.statusCode, ramp.body).toBe(200);
    const manifest = bodyOf(ramp).manifest as { rollout: { variants: { weight: number }[] } };
    expect(manifest.rollout.variants.map((v) => v.weight)).toEqual([2000, 8000]);

    const shrink = await http(
      event('POST /rollouts/{model}/{stage}/ramp', { principal: ALICE, body: { percent: 10, reason: '' } }),
    );
    expect(shrink.statusCode).toBe(409);

    const abort = await http(
      event('POST /rollouts/{model}/{stage}/abort', { principal: ALICE, body: { reason: 'stop' } }),
    );
    expect(abort.statusCode, abort.body).toBe(200);
    expect(bodyOf(abort)).toMatchObject({
      rollout: { status: 'aborted', ended: { actor: 'a@studio.test' } },
    });
    expect((bodyOf(abort).manifest as Record<string, unknown>).rollout).toBeUndefined();
    // The abort is told once on the alert channel (docs/notices.md), naming who and why.
    const notices = w.outbox().filter((m) => m.includes('rollout of'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('aborted by a@studio.test');
    expect(notices[0]).toContain('Reason: stop');
  });
});
