import { s3Uri } from '../../adapters/s3-objects.js';
import { postToSlack } from '../../adapters/slack.js';
import type { DriftResult } from '../../domain/drift/drift-result.js';
import { describeBreach, type PerformanceBreach } from '../../domain/drift/performance-breach.js';
import type { MonitoringDeps, UploadedObject, UploadKind } from './deps.js';

/**
 * The alerts of monitoring: on the SNS topic (which must go out: a failure to publish fails the
 * delivery, which is retried) and, when the config has one, on a Slack incoming webhook (which
 * never fails anything).
 */

const MAX_ALERT_FEATURES = 10;

/** An upload that could not be processed: what was wrong, and that nothing else changed. */
export async function alertFailure(
  d: MonitoringDeps,
  o: UploadedObject,
  kind: UploadKind,
  model: string,
  error: string,
): Promise<void> {
  const subject = `[mlcycle] ${kind} for ${model} could not be processed`;
  const message = `${s3Uri(o.bucket, o.key)}\n\n${error}\n\nNothing else was changed; fix the file and upload it again.`;
  await d.alerts.publish({ subject, message });
  await notifySlack(d, `${subject}: ${message}`, { model, batchKey: o.key });
}

/** A rollout's alert (an automatic abort, evidence refused): its subject and text, on every channel. */
export async function alertRollout(
  d: MonitoringDeps,
  o: UploadedObject,
  model: string,
  alert: { subject: string; message: string },
): Promise<void> {
  await d.alerts.publish({ subject: `[mlcycle] ${alert.subject}`, message: alert.message });
  await notifySlack(d, `${alert.subject}: ${alert.message}`, { model, batchKey: o.key });
}

/**
 * One alert per checked batch that drifted (the worst columns first, each with what to do about
 * it) or broke the model's live-performance thresholds (each breach with value, reference and
 * limit), or both, with the report.
 */
export async function alertBatch(
  d: MonitoringDeps,
  model: string,
  o: UploadedObject,
  result: DriftResult,
  reportUri: string,
  found: { drift: boolean; breaches: readonly PerformanceBreach[] },
): Promise<void> {
  const parts = [
    ...(found.drift ? [driftAlertText(model, o, result)] : []),
    ...(found.breaches.length ? [performanceAlertText(model, o, found.breaches)] : []),
  ];
  const text = `${parts.join('\n\n')}\n\nReport: ${reportUri}`;
  const subject = [
    ...(found.drift ? [`drift ${result.overallSeverity}`] : []),
    ...(found.breaches.length ? [`performance below thresholds (${found.breaches.length})`] : []),
  ].join(', ');
  await d.alerts.publish({ subject: `[mlcycle] ${subject}: ${model}`, message: text });
  await notifySlack(d, text, { model, batchKey: o.key });
}

function performanceAlertText(
  model: string,
  o: UploadedObject,
  breaches: readonly PerformanceBreach[],
): string {
  const lines = breaches.map((b) => `- ${describeBreach(b, model)}`);
  return `Live performance of ${model} in ${s3Uri(o.bucket, o.key)} broke ${breaches.length} threshold(s):\n\n${lines.join('\n')}`;
}

function driftAlertText(model: string, o: UploadedObject, result: DriftResult): string {
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
  return `Drift ${result.overallSeverity} for ${model} in ${s3Uri(o.bucket, o.key)}: ${(result.driftedShare * 100).toFixed(0)}% of input features drifted.\n\n${lines.join('\n')}`;
}

/** Posts the alert to the Slack incoming webhook from the config, if there is one (never fails the check). */
async function notifySlack(
  d: MonitoringDeps,
  text: string,
  context: { model: string; batchKey: string },
): Promise<'sent' | 'failed' | 'not-configured'> {
  const url = d.config.alerts.slackWebhookUrl;
  if (!url) return 'not-configured';
  return postToSlack(
    { url, ...(d.fetch ? { fetch: d.fetch } : {}), ...(d.logger ? { logger: d.logger } : {}) },
    text,
    context,
  );
}
