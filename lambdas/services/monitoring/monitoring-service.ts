import { createHash } from 'node:crypto';
import type { DriftRecord, DriftStore } from '../../adapters/drift/drift-store.js';
import { dataChunks, formatOf } from '../../adapters/drift/object-stream.js';
import { type ParallelOptions, profileSource, profileStream } from '../../adapters/drift/parallel-profile.js';
import { type RangeSource, s3ClientRecipe } from '../../adapters/drift/range-reader.js';
import type { AlertPublisher } from '../../adapters/notifier.js';
import { readManifest } from '../../adapters/registry/manifest.js';
import { type S3Objects, s3Uri } from '../../adapters/s3-objects.js';
import type { MonitoringRuntimeConfig } from '../../contracts/config-schema.js';
import { type DriftSummary, driftLatestKey } from '../../contracts/drift-summary.js';
import { type CompareOptions, compareProfiles, type DriftResult } from '../../domain/drift/compare.js';
import { renderDriftReport } from '../../domain/drift/report-html.js';
import { atLeast } from '../../domain/drift/severity.js';
import { DataError, isMlcycleError, NotFoundError } from '../../domain/errors.js';
import type { ColumnKind, Profile } from '../../domain/profile/profile.js';

export interface MonitoringDeps {
  readonly store: DriftStore;
  readonly objects: S3Objects;
  readonly bucket: string;
  readonly config: MonitoringRuntimeConfig;
  readonly alerts: AlertPublisher;
  /**
   * Starts a retrain of a model through the start service (recorded as asked by the drift
   * monitor), returning the execution ARN; absent when retraining on drift is not wired.
   */
  readonly retrain?: (model: string, reason: string) => Promise<string>;
  readonly fetch?: typeof fetch;
  readonly clock?: () => Date;
  /** Worker threads for profiling (default: one per available CPU). */
  readonly parallel?: ParallelOptions;
  /** Where delivery problems of secondary channels (the Slack webhook) are reported. */
  readonly logger?: MonitoringLogger;
}

/** The part of a logger the service uses (Powertools' Logger fits). */
export interface MonitoringLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface UploadedObject {
  readonly bucket: string;
  readonly key: string;
  /** ETag or version id: what makes a delivery of the same object a duplicate. */
  readonly version: string;
}

const MONITORING_KEY = /^monitoring\/([a-z][a-z0-9-]{0,39})\/(baseline|batches)\/(.+)$/;

export function parseMonitoringKey(key: string): { model: string; kind: 'baseline' | 'batches' } {
  const m = MONITORING_KEY.exec(key);
  if (!m)
    throw new DataError(`"${key}" is not under monitoring/<model>/baseline/ or monitoring/<model>/batches/`);
  return { model: m[1] as string, kind: m[2] as 'baseline' | 'batches' };
}

function batchIdOf(o: UploadedObject): string {
  return createHash('sha256').update(`${o.key}#${o.version}`).digest('hex').slice(0, 12);
}

async function profileObject(
  d: MonitoringDeps,
  o: UploadedObject,
  kinds: Record<string, ColumnKind> | undefined,
  roles?: { label: string; prediction: string },
): Promise<Profile> {
  const { format, gzip } = formatOf(o.key);
  const options = {
    format,
    ...(kinds ? { kinds } : {}),
    categoricalCap: d.config.categoricalCap,
    ...(roles ? { performance: roles } : {}),
  };
  if (!gzip) {
    // split into byte ranges that worker threads (one per vCPU) read and profile, then merged
    const head = await d.objects.head({ bucket: o.bucket, key: o.key });
    if (!head) throw new NotFoundError(`${s3Uri(o.bucket, o.key)} does not exist`);
    const source: RangeSource = {
      kind: 's3',
      bucket: o.bucket,
      key: o.key,
      etag: head.etag,
      size: head.size,
      client: await s3ClientRecipe(d.objects.s3),
    };
    return profileSource(source, options, d.parallel ?? {});
  }
  const body = await d.objects.getStream({ bucket: o.bucket, key: o.key });
  try {
    // gzip cannot be split: one stream, cut into blocks of rows for the worker threads
    return await profileStream(dataChunks(body, gzip), options, d.parallel ?? {});
  } catch (err) {
    if (gzip && /incorrect header|unexpected end|invalid|header check/i.test((err as Error).message)) {
      throw new DataError(`"${o.key}" ends in .gz but is not valid gzip (${(err as Error).message})`);
    }
    throw err;
  } finally {
    body.destroy();
  }
}

/**
 * Runs `work` once per object version: a duplicate delivery is skipped; a data problem becomes
 * an error record (and an alert), never a retry loop; any other failure (an AWS call failing,
 * the alert included) gives the claim back and rethrows, so the retried delivery is processed.
 * The record is always the last write, so a retry after a failure never leaves two records.
 */
async function exactlyOnce(
  d: MonitoringDeps,
  o: UploadedObject,
  kind: 'baseline' | 'batch',
  work: (model: string, batchId: string, now: Date) => Promise<DriftRecord>,
): Promise<DriftRecord | undefined> {
  const now = (d.clock ?? (() => new Date()))();
  if (!(await d.store.claimEvent(o.bucket, o.key, o.version, now))) return undefined;
  try {
    return await processOrRecordError(d, o, kind, now, work);
  } catch (err) {
    await d.store.releaseEvent(o.bucket, o.key, o.version);
    throw err;
  }
}

async function processOrRecordError(
  d: MonitoringDeps,
  o: UploadedObject,
  kind: 'baseline' | 'batch',
  now: Date,
  work: (model: string, batchId: string, now: Date) => Promise<DriftRecord>,
): Promise<DriftRecord> {
  let model = 'unknown';
  const batchId = batchIdOf(o);
  try {
    model = parseMonitoringKey(o.key).model;
    return await work(model, batchId, now);
  } catch (err) {
    if (!isMlcycleError(err)) throw err;
    const record: DriftRecord = {
      model,
      batchId,
      batchKey: o.key,
      kind,
      checkedAt: now.toISOString(),
      status: 'error',
      overallSeverity: 'none',
      driftedShare: 0,
      rows: 0,
      features: [],
      error: err.message,
      alerted: true,
    };
    const subject = `[mlcycle] ${kind} for ${model} could not be processed`;
    const message = `s3://${o.bucket}/${o.key}\n\n${err.message}\n\nNothing else was changed; fix the file and upload it again.`;
    await d.alerts.publish({ subject, message });
    await notifySlack(d, `${subject}: ${message}`, { model, batchKey: o.key });
    if (model !== 'unknown') await d.store.putRecord(record);
    return record;
  }
}

function knownModel(d: MonitoringDeps, model: string) {
  const roles = d.config.models[model];
  if (!roles) {
    throw new DataError(
      `model "${model}" is not in the config (known: ${Object.keys(d.config.models).join(', ')})`,
    );
  }
  return roles;
}

/** monitoring/<model>/baseline/… uploaded: profile it and make it the model's baseline. */
export async function processBaseline(
  d: MonitoringDeps,
  o: UploadedObject,
): Promise<DriftRecord | undefined> {
  return exactlyOnce(d, o, 'baseline', async (model, batchId, now) => {
    knownModel(d, model);
    const profile = await profileObject(d, o, d.config.schema[model]);
    const profileKey = `reports/${model}/profiles/baseline.json`;
    await d.objects.putJson(
      { bucket: d.bucket, key: `reports/${model}/profiles/baseline-${batchId}.json` },
      profile,
    );
    await d.objects.putJson({ bucket: d.bucket, key: profileKey }, profile);
    const kinds = Object.fromEntries(Object.entries(profile.columns).map(([c, p]) => [c, p.kind]));
    await d.store.putBaseline({
      model,
      profileKey,
      sourceKey: o.key,
      rows: profile.rows,
      kinds,
      createdAt: now.toISOString(),
    });
    const record: DriftRecord = {
      model,
      batchId,
      batchKey: o.key,
      kind: 'baseline',
      checkedAt: now.toISOString(),
      status: 'ok',
      overallSeverity: 'none',
      driftedShare: 0,
      rows: profile.rows,
      features: [],
      resultUri: s3Uri(d.bucket, profileKey),
      alerted: false,
    };
    await d.store.putRecord(record);
    return record;
  });
}

async function referenceMetrics(d: MonitoringDeps, model: string) {
  for (const stage of ['production', 'staging']) {
    const manifest = await readManifest(d.objects, d.bucket, model, stage).catch(() => undefined);
    if (manifest) return manifest.metrics;
  }
  return null;
}

const SLACK_TIMEOUT_MS = 10_000;

/**
 * Posts the alert to the Slack incoming webhook from the config, if there is one. A webhook that
 * answers an error or cannot be reached never fails the check (the record is already stored and
 * the SNS alert has gone out): the failure is logged with the status, and the result returned.
 */
async function notifySlack(
  d: MonitoringDeps,
  text: string,
  context: { model: string; batchKey: string },
): Promise<'sent' | 'failed' | 'not-configured'> {
  const url = d.config.alerts.slackWebhookUrl;
  if (!url) return 'not-configured';
  // Incoming-webhook URLs carry a secret in their path: log only the host.
  const host = URL.canParse(url) ? new URL(url).host : 'the webhook';
  const warn = (reason: string) =>
    (d.logger ?? { warn: (m: string, e?: object) => console.warn(m, JSON.stringify(e)) }).warn(
      'slack alert not delivered',
      { ...context, webhookHost: host, reason },
    );
  try {
    const res = await (d.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(SLACK_TIMEOUT_MS),
    });
    if (res.ok) return 'sent';
    const body = (await res.text().catch(() => '')).slice(0, 200);
    warn(`HTTP ${res.status}${body ? ` ${body}` : ''}`);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    warn(`${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`);
  }
  return 'failed';
}

const MAX_ALERT_FEATURES = 10;

function alertText(model: string, o: UploadedObject, result: DriftResult, reportUri: string): string {
  const drifted = result.features
    .filter((f) => f.severity !== 'none')
    .sort((a, b) => (b.score ?? 0) - (a.score ?? 0));
  const lines = drifted.slice(0, MAX_ALERT_FEATURES).map((f) => {
    const m = f.details.missingRate;
    const missing =
      m.severity !== 'none'
        ? `; missing ${(m.baseline * 100).toFixed(1)}% → ${(m.batch * 100).toFixed(1)}% (${m.severity})`
        : '';
    const score = f.score === null ? 'n/a' : f.score.toFixed(3);
    const role = f.role === 'feature' ? '' : ` [${f.role}]`;
    return `- ${f.name}${role}: ${f.severity} (${f.method} ${score}${missing}) — ${f.recommendation}`;
  });
  if (drifted.length > MAX_ALERT_FEATURES) lines.push(`- … and ${drifted.length - MAX_ALERT_FEATURES} more`);
  return `Drift ${result.overallSeverity} for ${model} in s3://${o.bucket}/${o.key}: ${(result.driftedShare * 100).toFixed(0)}% of input features drifted.\n\n${lines.join('\n')}\n\nReport: ${reportUri}`;
}

/** monitoring/<model>/batches/… uploaded: compare with the baseline, record, report, alert. */
export async function processBatch(d: MonitoringDeps, o: UploadedObject): Promise<DriftRecord | undefined> {
  return exactlyOnce(d, o, 'batch', async (model, batchId, now) => {
    const roles = knownModel(d, model);
    const baseline = await d.store.getBaseline(model);
    if (!baseline) {
      throw new NotFoundError(
        `no baseline for ${model}: upload one to s3://${d.bucket}/monitoring/${model}/baseline/ first, then upload this batch again`,
      );
    }
    const baselineProfile = await d.objects.getJson<Profile>({ bucket: d.bucket, key: baseline.profileKey });
    const profile = await profileObject(
      d,
      o,
      { ...baseline.kinds, ...(d.config.schema[model] ?? {}) },
      {
        label: roles.target,
        prediction: 'prediction',
      },
    );
    const options: CompareOptions = {
      thresholds: d.config.thresholds,
      minSampleSize: d.config.minSampleSize,
      roles: { target: roles.target, ignore: roles.exclude },
      referenceMetrics: await referenceMetrics(d, model),
    };
    const result = compareProfiles(baselineProfile, profile, options);
    const base = `reports/${model}/drift/${now.toISOString().replace(/[:.]/g, '-')}-${batchId}`;
    const resultUri = s3Uri(d.bucket, `${base}.json`);
    const reportUri = s3Uri(d.bucket, `${base}.html`);
    await d.objects.putJson(
      { bucket: d.bucket, key: `${base}.json` },
      { model, batchKey: o.key, checkedAt: now.toISOString(), ...result },
    );
    await d.objects.put(
      { bucket: d.bucket, key: `${base}.html` },
      renderDriftReport(model, o.key, result, now.toISOString()),
      'text/html',
    );
    await d.objects.putJson(
      { bucket: d.bucket, key: `reports/${model}/profiles/batch-${batchId}.json` },
      profile,
    );

    const alert =
      atLeast(result.overallSeverity, d.config.alerts.minSeverity) && result.overallSeverity !== 'none';
    let retrainExecution: string | undefined;
    if (
      result.overallSeverity === 'critical' &&
      d.config.retrainOnCritical.enabled &&
      d.retrain &&
      (await d.store.claimRetrain(model, now, d.config.retrainOnCritical.cooldownHours))
    ) {
      retrainExecution = await d.retrain(model, `critical drift in ${o.key}`);
    }
    if (alert) {
      const text = alertText(model, o, result, reportUri);
      await d.alerts.publish({
        subject: `[mlcycle] drift ${result.overallSeverity}: ${model}`,
        message: text,
      });
      await notifySlack(d, text, { model, batchKey: o.key });
    }
    const summary: DriftSummary = {
      model,
      batchKey: o.key,
      checkedAt: now.toISOString(),
      status: result.status,
      overallSeverity: result.overallSeverity,
      driftedShare: result.driftedShare,
      rows: profile.rows,
      features: result.features.map((f) => ({
        name: f.name,
        kind: f.kind,
        method: f.method,
        score: f.score,
        severity: f.severity,
        ...(f.severity !== 'none' ? { recommendation: f.recommendation } : {}),
      })),
      reportUri,
      performance: {
        metrics: result.performance.metrics,
        change: result.performance.change,
        latency: result.performance.latency,
      },
    };
    await d.objects.putJson({ bucket: d.bucket, key: driftLatestKey(model) }, summary);
    const record: DriftRecord = {
      model,
      batchId,
      batchKey: o.key,
      kind: 'batch',
      checkedAt: now.toISOString(),
      status: result.status,
      overallSeverity: result.overallSeverity,
      driftedShare: result.driftedShare,
      rows: profile.rows,
      features: result.features.map((f) => ({
        name: f.name,
        method: f.method,
        score: f.score,
        severity: f.severity,
      })),
      resultUri,
      reportUri,
      alerted: alert,
      ...(retrainExecution ? { retrainExecution } : {}),
    };
    // Last: a failure before this line is retried whole, and leaves no record behind.
    await d.store.putRecord(record);
    return record;
  });
}
