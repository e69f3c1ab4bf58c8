import '../../../local/polyfills.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftStore } from '../../../lambdas/adapters/drift/drift-store.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { monitoringRuntimeSchema } from '../../../lambdas/contracts/config-schema.js';
import { processBaseline } from '../../../lambdas/services/monitoring/baseline.js';
import { processBatch } from '../../../lambdas/services/monitoring/batch-check.js';
import type { MonitoringDeps, UploadedObject } from '../../../lambdas/services/monitoring/deps.js';

import { type ChurnDrift, churnCsv } from '../../../local/data/churn.js';
import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../../support/emulators.js';

interface Post {
  readonly method: string;
  readonly path: string;
  readonly contentType: string;
  readonly body: string;
}

/** A Slack incoming webhook on 127.0.0.1: records every request; answers 200 "ok", or 500. */
async function startWebhook() {
  const hook = { url: '', posts: [] as Post[], status: 200, server: undefined as Server | undefined };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      hook.posts.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body,
      });
      res
        .writeHead(hook.status, { 'content-type': 'text/plain' })
        .end(hook.status === 200 ? 'ok' : 'internal_error');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0001/B0001/s3cr3tT0k3n`;
  hook.server = server;
  return hook;
}

/** A URL on 127.0.0.1 where nothing listens (a port that was just freed). */
async function unreachableUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return `http://127.0.0.1:${port}/services/T0001/B0001/s3cr3tT0k3n`;
}

describe('Slack webhook alerts from drift checks', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  let hook: Awaited<ReturnType<typeof startWebhook>>;
  let bucket: string;
  let store: DriftStore;
  let objects: S3Objects;
  const sns: { subject: string; message: string }[] = [];
  const warnings: { message: string; extra: Record<string, unknown> }[] = [];

  const deps = (slackWebhookUrl: string): MonitoringDeps => ({
    store,
    objects,
    bucket,
    config: monitoringRuntimeSchema.parse({
      alerts: { minSeverity: 'high', slackWebhookUrl },
      models: { churn: { target: 'churned', exclude: ['player_id'] } },
    }),
    alerts: {
      publish: async (a) => {
        sns.push(a);
        return { id: String(sns.length) };
      },
    },
    logger: { warn: (message, extra) => warnings.push({ message, extra }) },
    parallel: { workers: 1 },
  });

  beforeAll(async () => {
    [dynamo, s3, hook] = await Promise.all([startTestDynamo(), startTestS3(), startWebhook()]);
    bucket = await s3.newBucket();
    store = new DriftStore(dynamo.doc, await dynamo.newTable());
    objects = new S3Objects(s3.local.client);
    const base = await upload('monitoring/churn/baseline/base.csv', churnCsv({ rows: 3000, seed: 1 }));
    expect(await processBaseline(deps(hook.url), base)).toMatchObject({ status: 'ok', rows: 3000 });
    expect(hook.posts).toEqual([]);
  });
  afterAll(async () => {
    await new Promise((done) => (hook?.server ? hook.server.close(done) : done(undefined)));
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  });

  async function upload(key: string, body: string): Promise<UploadedObject> {
    await objects.put({ bucket, key }, body);
    const head = await objects.head({ bucket, key });
    return { bucket, key, version: head?.etag ?? 'none' };
  }
  const batch = (name: string, drift: ChurnDrift) =>
    upload(`monitoring/churn/batches/${name}`, churnCsv({ rows: 1500, seed: 2, drift }));
  const HIGH: ChurnDrift = {
    sessionsPerWeekScale: 0.5,
    daysSinceLoginShift: 6,
    platformMix: { pc: 0.5 },
    missingRate: 0.25,
  };
  const recordsFor = async (key: string) =>
    (await store.listRecords('churn', new Date(0))).filter((r) => r.batchKey === key);

  it('high drift: one message for the batch, naming the model, the batch, the severity and every drifted feature', async () => {
    const o = await batch('2026-03-02 eu.csv', HIGH);
    const before = hook.posts.length;
    const [first, second] = await Promise.all([
      processBatch(deps(hook.url), o),
      processBatch(deps(hook.url), o),
    ]);
    expect(await processBatch(deps(hook.url), o)).toBeUndefined();
    const record = first ?? second;
    expect(record).toMatchObject({ status: 'ok', overallSeverity: 'high', alerted: true });
    const drifted = (record?.features ?? []).filter((f) => f.severity !== 'none');
    expect(drifted.length).toBeGreaterThanOrEqual(4);

    const posts = hook.posts.slice(before);
    expect(posts).toHaveLength(1);
    const [post] = posts;
    expect(post).toMatchObject({
      method: 'POST',
      path: '/services/T0001/B0001/s3cr3tT0k3n',
      contentType: 'application/json',
    });
    const { text } = JSON.parse(post?.body ?? '{}') as { text: string };
    expect(text).toMatch(
      /^Drift high for churn in s3:\/\/\S+\/monitoring\/churn\/batches\/2026-03-02 eu\.csv: \d+% of input features drifted\./,
    );
    for (const f of drifted)
      expect(text).toMatch(new RegExp(`^- ${f.name}( \\[\\w+\\])?: ${f.severity} \\(`, 'm'));
    expect(text).toMatch(/^- avg_session_minutes: low \(.*; missing 2\.\d% → 2\d\.\d% \(low\)\)/m);
    expect(text).toContain(`Report: ${record?.reportUri}`);
    // the unchanged features are not listed
    expect(text).not.toMatch(/^- (region|level|purchases_30d):/m);
    expect(sns).toContainEqual({ subject: '[mlcycle] drift high: churn', message: text });
    expect(warnings).toEqual([]);
  });

  it('low and medium drift: no message (below minSeverity high), the records say not alerted', async () => {
    const before = hook.posts.length;
    for (const [name, drift, severity] of [
      ['low.csv', { sessionsPerWeekScale: 0.7 }, 'low'],
      ['medium.csv', { sessionsPerWeekScale: 0.6 }, 'medium'],
      ['none.csv', {}, 'none'],
    ] as const) {
      const record = await processBatch(deps(hook.url), await batch(name, drift));
      expect(record).toMatchObject({ status: 'ok', overallSeverity: severity, alerted: false });
    }
    expect(hook.posts.slice(before)).toEqual([]);
  });

  it('a batch that cannot be read is alerted on Slack too, once', async () => {
    const before = hook.posts.length;
    const o = await upload('monitoring/churn/batches/export.xlsx', 'PK not a csv');
    const record = await processBatch(deps(hook.url), o);
    expect(record).toMatchObject({
      status: 'error',
      error: expect.stringContaining('unsupported extension'),
    });
    expect(await processBatch(deps(hook.url), o)).toBeUndefined();
    const posts = hook.posts.slice(before);
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]?.body ?? '{}').text).toMatch(
      /^\[mlcycle\] batch for churn could not be processed: s3:\/\/\S+\/monitoring\/churn\/batches\/export\.xlsx\n\n"monitoring\/churn\/batches\/export\.xlsx" has an unsupported extension/,
    );
  });

  it('a webhook answering 500: the drift record and the SNS alert stand, the failure is logged', async () => {
    const before = { posts: hook.posts.length, sns: sns.length, warnings: warnings.length };
    hook.status = 500;
    try {
      const o = await batch('webhook-500.csv', HIGH);
      const record = await processBatch(deps(hook.url), o);
      expect(record).toMatchObject({ status: 'ok', overallSeverity: 'high' });
      expect(await recordsFor(o.key)).toEqual([
        expect.objectContaining({ status: 'ok', overallSeverity: 'high' }),
      ]);
      // the webhook was tried once, the redelivery is a duplicate and tries nothing
      expect(await processBatch(deps(hook.url), o)).toBeUndefined();
    } finally {
      hook.status = 200;
    }
    expect(hook.posts.length - before.posts).toBe(1);
    expect(sns.length - before.sns).toBe(1);
    expect(warnings.slice(before.warnings)).toEqual([
      {
        message: 'slack message not delivered',
        extra: {
          model: 'churn',
          batchKey: 'monitoring/churn/batches/webhook-500.csv',
          webhookHost: new URL(hook.url).host,
          reason: 'HTTP 500 internal_error',
        },
      },
    ]);
    // the webhook's secret path is never logged
    expect(JSON.stringify(warnings)).not.toContain('s3cr3tT0k3n');
  });

  it('an unreachable webhook: the drift record and the SNS alert stand, the failure is logged', async () => {
    const url = await unreachableUrl();
    const before = { sns: sns.length, warnings: warnings.length };
    const o = await batch('webhook-down.csv', HIGH);
    const record = await processBatch(deps(url), o);
    expect(record).toMatchObject({ status: 'ok', overallSeverity: 'high' });
    expect(await recordsFor(o.key)).toHaveLength(1);
    expect(sns.length - before.sns).toBe(1);
    expect(warnings.slice(before.warnings)).toEqual([
      {
        message: 'slack message not delivered',
        extra: expect.objectContaining({
          batchKey: o.key,
          webhookHost: new URL(url).host,
          reason: expect.stringMatching(/ECONNREFUSED/),
        }),
      },
    ]);
  });
});
