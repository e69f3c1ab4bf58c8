import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/adapters/config-file.js';
import { DriftStore } from '../../lambdas/adapters/drift/drift-store.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { ENV } from '../../lambdas/contracts/env.js';
import { HANDLERS } from '../../lambdas/contracts/handlers.js';
import { esc } from '../../lambdas/domain/approval/html.js';
import { churnCsv } from '../../local/data/churn.js';
import { LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { deployedConfigFile } from '../support/deployed-config.js';
import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../support/emulators.js';
import { s3Event } from '../support/s3-event.js';

type S3Handler = (
  event: S3Event,
) => Promise<{ key: string; status: string; severity?: string; error?: string }[]>;

const ROOT = resolve(import.meta.dirname, '../..');
const TOPIC = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:mlcycle-alerts`;

/**
 * A stand-in for the SNS endpoint (AWS_ENDPOINT_URL_SNS), so alerts go through the real SNS
 * client as on AWS: it records each Publish (query protocol) and answers as SNS does.
 */
async function startSnsEndpoint() {
  const published: URLSearchParams[] = [];
  const sns = { url: '', published, server: undefined as Server | undefined, failing: false };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      if (form.get('Action') !== 'Publish') {
        res.writeHead(400).end();
        return;
      }
      if (sns.failing) {
        res
          .writeHead(500, { 'content-type': 'text/xml' })
          .end(
            '<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>injected outage</Message></Error><RequestId>r</RequestId></ErrorResponse>',
          );
        return;
      }
      published.push(form);
      res
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(
          `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
        );
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  sns.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sns.server = server;
  return sns;
}

/**
 * The baseline and drift Lambda handlers, invoked with S3 event notifications as AWS delivers
 * them, with the environment the CDK stack gives them (lambdas/contracts/handlers.ts), their SDK
 * clients pointed at DynamoDB Local, s3rver and an SNS endpoint through AWS_ENDPOINT_URL_*.
 */
describe('baseline and drift handlers on S3 events', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  let sns: Awaited<ReturnType<typeof startSnsEndpoint>>;
  let bucket: string;
  let table: string;
  let objects: S3Objects;
  let store: DriftStore;
  let baseline: S3Handler;
  let drift: S3Handler;

  beforeAll(async () => {
    [dynamo, s3, sns] = await Promise.all([startTestDynamo(), startTestS3(), startSnsEndpoint()]);
    [bucket, table] = await Promise.all([s3.newBucket(), dynamo.newTable()]);
    objects = new S3Objects(s3.local.client);
    store = new DriftStore(dynamo.doc, table);
    // What the stack sets (lib/mlcycle-stack.ts), by the contract's names; nothing local-only.
    const stackEnv: Partial<Record<string, string>> = {
      [ENV.table]: table,
      [ENV.bucket]: bucket,
      // The deployed config, as the stack's layer holds it: the repository's config.
      [ENV.configFile]: deployedConfigFile(loadConfig(join(ROOT, 'mlcycle.config.yaml'))),
      [ENV.alertTopicArn]: TOPIC,
      // drift: where a rollout's automatic abort republishes the manifest's download URLs
      [ENV.clientBaseUrl]: 'https://cdn.test/',
    };
    for (const name of ['baseline', 'drift'] as const) {
      expect(HANDLERS[name].env.filter((v) => !stackEnv[v])).toEqual([]);
    }
    delete process.env[ENV.outboxDir];
    delete process.env[ENV.stateMachineArn];
    Object.assign(process.env, stackEnv, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.local.endpoint,
      AWS_ENDPOINT_URL_S3: s3.local.endpoint,
      AWS_ENDPOINT_URL_SNS: sns.url,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    ({ handler: baseline } = (await import('../../lambdas/handlers/baseline.js')) as { handler: S3Handler });
    ({ handler: drift } = (await import('../../lambdas/handlers/drift.js')) as { handler: S3Handler });
  });
  afterAll(async () => {
    await new Promise((done) => (sns?.server ? sns.server.close(done) : done(undefined)));
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  });

  /** Uploads the file, then returns the event S3 would send for it. */
  async function upload(key: string, body: string): Promise<S3Event> {
    await objects.put({ bucket, key }, body);
    const head = await objects.head({ bucket, key });
    const eTag = (head?.etag ?? '').replace(/"/g, '');
    expect(eTag).toMatch(/^[0-9a-f]{32}$/);
    return s3Event(bucket, [{ key, size: Buffer.byteLength(body), eTag }]);
  }

  const recordsFor = async (key: string) =>
    (await store.listRecords('churn', new Date(0))).filter((r) => r.batchKey === key);
  const keyOf = (uri: string | undefined) => (uri ?? '').replace(`s3://${bucket}/`, '');
  const alerts = () =>
    sns.published.map((p) => ({
      topic: p.get('TopicArn'),
      subject: p.get('Subject') ?? '',
      message: p.get('Message') ?? '',
    }));

  it('a batch before any baseline: an error record and an alert, and the handler returns', async () => {
    const key = 'monitoring/churn/batches/too early.csv';
    const event = await upload(key, churnCsv({ rows: 500, seed: 9 }));
    expect(event.Records[0]?.s3.object.key).toBe('monitoring/churn/batches/too+early.csv');
    await expect(drift(event)).resolves.toEqual([{ key, status: 'error', severity: 'none' }]);
    const [record, ...more] = await recordsFor(key);
    expect(more).toEqual([]);
    expect(record).toMatchObject({ kind: 'batch', status: 'error', alerted: true });
    expect(record?.error).toMatch(
      /^no baseline for churn: upload one to s3:\/\/.*\/monitoring\/churn\/baseline\//,
    );
    expect(alerts()).toEqual([
      {
        topic: TOPIC,
        subject: '[mlcycle] batch for churn could not be processed',
        message: expect.stringContaining(key),
      },
    ]);
  });

  it('a baseline whose key has spaces and URL-encoded characters becomes the model’s baseline', async () => {
    const key = 'monitoring/churn/baseline/players 2026-02 (all regions)+eu.csv';
    const event = await upload(key, churnCsv({ rows: 3000, seed: 1 }));
    expect(event.Records[0]?.s3.object.key).toBe(
      'monitoring/churn/baseline/players+2026-02+%28all+regions%29%2Beu.csv',
    );
    await expect(baseline(event)).resolves.toEqual([{ key, status: 'ok', error: undefined }]);
    const pointer = await store.getBaseline('churn');
    expect(pointer).toMatchObject({ model: 'churn', sourceKey: key, rows: 3000 });
    expect(pointer?.kinds).toMatchObject({ sessions_per_week: 'numeric', platform: 'categorical' });
    const profile = await objects.getJson<{ rows: number; columns: Record<string, unknown> }>({
      bucket,
      key: pointer?.profileKey ?? '',
    });
    expect(profile.rows).toBe(3000);
    expect(Object.keys(profile.columns)).toEqual(expect.arrayContaining(['days_since_last_login', 'region']));
    expect(await recordsFor(key)).toEqual([
      expect.objectContaining({ kind: 'baseline', status: 'ok', rows: 3000 }),
    ]);
  });

  it('a drifted batch: a drift record, a JSON result and a self-contained HTML report, one alert', async () => {
    const before = sns.published.length;
    const key = 'monitoring/churn/batches/2026-03-02 live ops.csv';
    const body = churnCsv({
      rows: 1500,
      seed: 2,
      drift: {
        sessionsPerWeekScale: 0.5,
        daysSinceLoginShift: 6,
        platformMix: { pc: 0.5 },
        missingRate: 0.25,
      },
    });
    const [result] = await drift(await upload(key, body));
    expect(result).toEqual({ key, status: 'ok', severity: 'high' });

    const [record, ...more] = await recordsFor(key);
    expect(more).toEqual([]);
    expect(record).toMatchObject({
      kind: 'batch',
      status: 'ok',
      overallSeverity: 'high',
      rows: 1500,
      alerted: true,
    });
    const severities = Object.fromEntries((record?.features ?? []).map((f) => [f.name, f.severity]));
    expect(severities).toMatchObject({
      days_since_last_login: 'high',
      sessions_per_week: 'medium',
      // 1,500 rows: JS less its noise margin for the platform mix (the old rule scored the noise too)
      platform: 'low',
      // 2 % → 25 % missing: a change of 0.228 less its noise margin at 3,000 vs 1,500 rows (0.028)
      avg_session_minutes: 'low',
      region: 'none',
      level: 'none',
    });
    expect(severities).not.toHaveProperty('player_id');

    const json = await objects.getJson<{
      model: string;
      batchKey: string;
      overallSeverity: string;
      features: { name: string; severity: string; recommendation: string }[];
    }>({ bucket, key: keyOf(record?.resultUri) });
    expect(json).toMatchObject({ model: 'churn', batchKey: key, overallSeverity: 'high' });
    const drifted = json.features.filter((f) => f.severity !== 'none');
    expect(drifted.map((f) => f.name).sort()).toEqual([
      'avg_session_minutes',
      'churned',
      'days_since_last_login',
      'platform',
      'sessions_per_week',
    ]);
    for (const f of drifted) expect(f.recommendation.length).toBeGreaterThan(10);

    const html = await objects.getText({ bucket, key: keyOf(record?.reportUri) });
    expect(html).toMatch(/^<!doctype html>/i);
    for (const f of drifted) {
      expect(html).toContain(`aria-label="${f.name}: baseline vs batch"`);
      expect(html).toContain(`<b>Recommended:</b> ${esc(f.recommendation)}`);
    }
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(drifted.length);
    // no external assets: nothing fetched from anywhere
    expect(html).not.toMatch(/<(script|link|img|iframe)\b|\bsrc=|url\(|@import|href="(?!#)/i);

    expect(alerts().slice(before)).toEqual([
      {
        topic: TOPIC,
        subject: '[mlcycle] drift high: churn',
        message: expect.stringContaining(`s3://${bucket}/${key}`),
      },
    ]);
    const latest = await objects.getJson<{ batchKey: string }>({
      bucket,
      key: 'reports/churn/drift/latest.json',
    });
    expect(latest.batchKey).toBe(key);
  });

  it('a duplicate delivery (same key and ETag, even inside one event) gives one record and one alert', async () => {
    const before = sns.published.length;
    const key = 'monitoring/churn/batches/dup day.csv';
    const event = await upload(key, churnCsv({ rows: 1500, seed: 3, drift: { daysSinceLoginShift: 10 } }));
    const twice: S3Event = { Records: [...event.Records, ...event.Records] };
    const [a, b] = await Promise.all([drift(twice), drift(event)]);
    const statuses = [...(a ?? []), ...(b ?? [])].map((r) => r.status).sort();
    expect(statuses).toEqual(['duplicate', 'duplicate', 'ok']);
    await expect(drift(event)).resolves.toEqual([{ key, status: 'duplicate', severity: undefined }]);
    expect(await recordsFor(key)).toHaveLength(1);
    expect(sns.published.length - before).toBe(1);

    // A new upload of the same key is a new object version (new ETag): checked again.
    const again = await upload(key, churnCsv({ rows: 1500, seed: 4 }));
    await expect(drift(again)).resolves.toEqual([{ key, status: 'ok', severity: 'none' }]);
    expect(await recordsFor(key)).toHaveLength(2);
  });

  it('an unsupported extension: an error record naming it, one alert, no retry loop', async () => {
    const before = sns.published.length;
    const key = 'monitoring/churn/batches/export 2026-03.parquet';
    const event = await upload(key, 'PAR1 not really parquet');
    // resolving (not throwing) is what stops Lambda's async retries
    await expect(drift(event)).resolves.toEqual([{ key, status: 'error', severity: 'none' }]);
    const [record, ...more] = await recordsFor(key);
    expect(more).toEqual([]);
    expect(record?.error).toBe(
      `"${key}" has an unsupported extension; upload .csv, .jsonl or .ndjson (optionally .gz)`,
    );
    expect(alerts().slice(before)).toEqual([
      expect.objectContaining({
        subject: '[mlcycle] batch for churn could not be processed',
        message: expect.stringContaining('unsupported extension'),
      }),
    ]);
    // a redelivery of the same event is a no-op, not another error or alert
    await expect(drift(event)).resolves.toEqual([{ key, status: 'duplicate', severity: undefined }]);
    expect(sns.published.length - before).toBe(1);
  });

  it('an object deleted before its event is handled: an error record naming it, no retry loop', async () => {
    const key = 'monitoring/churn/batches/gone already.csv';
    const event = s3Event(bucket, [{ key, size: 10, eTag: 'b3d0c1a9e8f7a6b5c4d3e2f1a0b9c8d7' }]);
    await expect(drift(event)).resolves.toEqual([{ key, status: 'error', severity: 'none' }]);
    expect(await recordsFor(key)).toEqual([
      expect.objectContaining({ status: 'error', error: `s3://${bucket}/${key} does not exist` }),
    ]);
  });

  it('SNS failing: the handler throws so Lambda retries, and the retry records and alerts once', async () => {
    const before = sns.published.length;
    const key = 'monitoring/churn/batches/sns outage.csv';
    const event = await upload(key, churnCsv({ rows: 1500, seed: 6, drift: { daysSinceLoginShift: 10 } }));
    sns.failing = true;
    try {
      await expect(drift(event)).rejects.toThrow();
    } finally {
      sns.failing = false;
    }
    expect(sns.published.length).toBe(before);
    // Lambda's async retry delivers the same event again: processed, not skipped as a duplicate
    await expect(drift(event)).resolves.toEqual([
      { key, status: 'ok', severity: expect.stringMatching(/high|critical/) },
    ]);
    expect(await recordsFor(key)).toEqual([expect.objectContaining({ status: 'ok', alerted: true })]);
    expect(alerts().slice(before)).toEqual([
      expect.objectContaining({
        subject: expect.stringMatching(/^\[mlcycle\] drift (high|critical): churn$/),
      }),
    ]);
    await expect(drift(event)).resolves.toEqual([{ key, status: 'duplicate', severity: undefined }]);
  });

  it('SNS failing on a bad file: retried, then one error record and one alert', async () => {
    const before = sns.published.length;
    const key = 'monitoring/churn/batches/empty.csv';
    const event = await upload(key, '');
    sns.failing = true;
    try {
      await expect(drift(event)).rejects.toThrow();
    } finally {
      sns.failing = false;
    }
    await expect(drift(event)).resolves.toEqual([{ key, status: 'error', severity: 'none' }]);
    expect(await recordsFor(key)).toEqual([expect.objectContaining({ status: 'error' })]);
    expect(sns.published.length - before).toBe(1);
  });
});
