import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { CleanupHistory } from '../../lambdas/adapters/registry/cleanup-history.js';
import { driftLatestKey } from '../../lambdas/contracts/drift-summary.js';
import { modelStatusSchema } from '../../lambdas/contracts/status.js';
import { decision, request } from '../unit/approval/fixtures.js';
import {
  fixtureConfig,
  type HandlerWorld,
  handlerWorld,
  lineageFor,
  METRICS,
  MODEL,
  REQUESTOR,
} from './fixtures.js';

/**
 * GET /status/{model} over the handler, on DynamoDB Local and s3rver: a model with nothing yet,
 * one mid-approval (one of two approvals in), one after a failed retrain; the JSON always has
 * the shape of contracts/status.ts.
 */
type Http = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const config = fixtureConfig({
  models: {
    [MODEL]: { target: 'churned', schedule: { retrain: 'cron(0 3 ? * MON *)', stage: 'staging' } },
    quiet: { target: 'churned', schedule: { enabled: false } },
  },
});

const event = (model: string): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: 'GET /status/{model}',
    rawPath: `/status/${model}`,
    rawQueryString: '',
    headers: {},
    pathParameters: { model },
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req',
      routeKey: 'GET /status/{model}',
      http: { method: 'GET', path: `/status/${model}` },
    },
  }) as unknown as APIGatewayProxyEventV2;

describe('status-http (GET /status/{model})', () => {
  let w: HandlerWorld;
  let http: Http;
  const get = async (model: string) => {
    const r = await http(event(model));
    return { status: r.statusCode, body: JSON.parse(r.body ?? '{}') as Record<string, unknown> };
  };

  beforeAll(async () => {
    w = await handlerWorld('statusHttp', {}, config);
    ({ handler: http } = (await import('../../lambdas/handlers/status-http.js')) as { handler: Http });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('a model with nothing yet: every stage empty, no run, no approvals, no drift, no cleanup; the next Monday 03:00 retrain', async () => {
    const { status, body } = await get('quiet');
    expect(status).toBe(200);
    expect(modelStatusSchema.parse(body)).toEqual({
      model: 'quiet',
      at: expect.any(String),
      stages: [
        { stage: 'staging', serving: null },
        { stage: 'production', serving: null },
      ],
      lastRun: null,
      nextRetrain: { enabled: false, schedule: 'cron(0 3 ? * MON *)', stage: 'staging', at: null },
      pendingApprovals: [],
      drift: null,
      lastCleanup: null,
    });
    const churn = modelStatusSchema.parse((await get(MODEL)).body);
    const next = new Date(churn.nextRetrain.at ?? '');
    expect([next.getUTCDay(), next.getUTCHours(), next.getUTCMinutes()]).toEqual([1, 3, 0]);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(7 * 86_400_000);
  });

  it('mid-approval and after a failed retrain: what serves with its metrics, the pending request with 1/2, the failure cause, drift, the last cleanup', async () => {
    const v = await w.registry.versions.registerVersion({
      model: MODEL,
      bump: 'minor',
      metrics: METRICS,
      lineage: lineageFor(w.bucket, 'r1'),
    });
    const entry = await w.registry.stages.promote({
      model: MODEL,
      stage: 'production',
      version: v.version,
      actor: REQUESTOR,
      reason: 'first',
      action: 'promote',
    });
    const approvals = new ApprovalStore(w.dynamo.doc, w.table);
    const pending = request({}, { model: MODEL, version: '1.2.0', stage: 'production' });
    await approvals.create(pending);
    expect(
      await approvals.recordDecision(
        { ...decision('a@studio.test', 'approve'), requestId: pending.requestId },
        0,
      ),
    ).toBe('recorded');
    await w.registry.runs.putRun({
      model: MODEL,
      runId: '20301201T030000Z-weekly',
      stage: 'staging',
      status: 'failed',
      trigger: 'schedule',
      requestedBy: 'mlcycle-scheduler',
      reason: 'weekly retrain',
      datasetUri: `s3://${w.bucket}/datasets/${MODEL}/churn.csv`,
      hyperparameters: {},
      startedAt: '2030-12-01T03:00:00.000Z',
      finishedAt: '2030-12-01T03:20:00.000Z',
      failure: { kind: 'Train', error: 'TrainingFailed', cause: 'trainer exited 1: CUDA out of memory' },
    });
    await w.objects.putJson(
      { bucket: w.bucket, key: driftLatestKey(MODEL) },
      {
        model: MODEL,
        batchKey: `monitoring/${MODEL}/batches/b1.csv`,
        checkedAt: '2030-12-01T05:00:00.000Z',
        status: 'ok',
        overallSeverity: 'high',
        driftedShare: 0.25,
        rows: 500,
        features: [],
        reportUri: `s3://${w.bucket}/reports/${MODEL}/drift/b1.html`,
        performance: { metrics: { auc: 0.71 }, change: { auc: -0.1 }, latency: null },
      },
    );
    await new CleanupHistory(w.dynamo.doc, w.table).put({
      model: MODEL,
      id: 'c1',
      at: '2030-12-01T04:00:00.000Z',
      trigger: 'daily',
      actor: 'mlcycle-cleanup',
      policy: { keepLastVersions: 5, floor: 3 },
      archived: [{ version: '0.9.0', reasons: ['beyond the newest 5'], bytes: 1234, objects: 2 }],
      kept: 4,
      reclaimedBytes: 1234,
      deletedObjects: 2,
    });

    const { status, body } = await get(MODEL);
    expect(status).toBe(200);
    const s = modelStatusSchema.parse(body);
    expect(s.stages).toEqual([
      { stage: 'staging', serving: null },
      {
        stage: 'production',
        serving: { version: v.version, since: entry.at, metrics: METRICS, ledgerSeq: 1 },
      },
    ]);
    expect(s.lastRun).toEqual({
      runId: '20301201T030000Z-weekly',
      status: 'failed',
      trigger: 'schedule',
      stage: 'staging',
      startedAt: '2030-12-01T03:00:00.000Z',
      finishedAt: '2030-12-01T03:20:00.000Z',
      version: null,
      failure: { kind: 'Train', error: 'TrainingFailed', cause: 'trainer exited 1: CUDA out of memory' },
      skipped: null,
    });
    expect(s.pendingApprovals).toEqual([
      {
        requestId: pending.requestId,
        version: '1.2.0',
        stage: 'production',
        requestedBy: pending.requestedBy,
        createdAt: pending.createdAt,
        expiresAt: pending.expiresAt,
        approvals: 1,
        quorum: 2,
      },
    ]);
    expect(s.drift).toMatchObject({
      severity: 'high',
      driftedShare: 0.25,
      performance: { metrics: { auc: 0.71 } },
    });
    expect(s.lastCleanup).toEqual({
      at: '2030-12-01T04:00:00.000Z',
      trigger: 'daily',
      actor: 'mlcycle-cleanup',
      archived: ['0.9.0'],
      reclaimedBytes: 1234,
    });
  });

  it('a model the deployed config does not name ⇒ 404 naming it and the models there are', async () => {
    const before = await w.scan();
    const { status, body } = await get('nope');
    expect(status).toBe(404);
    expect(body).toEqual({
      error: 'NotFoundError',
      message: 'model "nope" is not in the deployed config (models: churn, quiet)',
    });
    expect(await w.scan()).toBe(before);
  });
});
