import type { DriftResult } from '../../domain/drift/drift-result.js';
import type { MonitoringDeps, UploadedObject } from './deps.js';

/**
 * The hand-off to retraining: a critical drift starts a retrain through `d.retrain` (the start
 * service, as the drift monitor) when the config asks for it, at most once per cool-down of the
 * model. Returns the execution it started, if any.
 */
export async function retrainOnCritical(
  d: MonitoringDeps,
  model: string,
  o: UploadedObject,
  result: DriftResult,
  now: Date,
): Promise<string | undefined> {
  const { enabled, cooldownHours } = d.config.retrainOnCritical;
  if (result.overallSeverity !== 'critical' || !enabled || !d.retrain) return undefined;
  if (!(await d.store.claimRetrain(model, now, cooldownHours))) return undefined;
  return d.retrain(model, `critical drift in ${o.key}`);
}
