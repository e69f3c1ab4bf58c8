import type { HandlerName } from './handlers.js';
import { type MonitoringUpload, monitoringPrefix, RUN_INPUTS, runsPrefix } from './s3-layout.js';

/**
 * An S3 event notification of the artifacts bucket: ObjectCreated events on keys under `prefix`
 * (and ending in `suffix`, when set) invoke `handler`. The CDK stack configures exactly these on
 * the bucket; the embedded default applies the same filters to s3rver's events.
 */
export interface NotificationRule {
  readonly prefix: string;
  readonly suffix?: string;
  readonly handler: HandlerName;
}

/** Which handler an upload under `monitoring/<model>/<kind>/` starts. */
export const MONITORING_HANDLERS: Readonly<Record<MonitoringUpload, HandlerName>> = {
  // A baseline upload is profiled…
  baseline: 'baseline',
  // …and a production batch compared with it.
  batches: 'drift',
};

/**
 * The bucket's notification rules for the models of a config, model by model: the monitoring
 * uploads, and a training job's progress (a sweep trial's early stopping watches it).
 */
export function notificationRules(models: readonly string[]): NotificationRule[] {
  return models.flatMap((model) => [
    ...(Object.entries(MONITORING_HANDLERS) as [MonitoringUpload, HandlerName][]).map(([kind, handler]) => ({
      prefix: monitoringPrefix(model, kind),
      handler,
    })),
    { prefix: runsPrefix(model), suffix: `/${RUN_INPUTS.progressMetrics}`, handler: 'watchTrial' as const },
  ]);
}

/** Whether an object key passes a rule's filters (S3 matches prefix and suffix literally). */
export function matchesRule(rule: NotificationRule, key: string): boolean {
  return key.startsWith(rule.prefix) && (rule.suffix === undefined || key.endsWith(rule.suffix));
}
