import type { Metrics } from '../../contracts/pipeline.js';
import { cancelledBy } from '../registry/run-cancel.js';
import type { RunRecord } from '../registry/types.js';
import type { SweepPageTrial } from './sweep-page.js';

/** A run recorded as a trial of a sweep. */
export type TrialRun = RunRecord & { sweep: NonNullable<RunRecord['sweep']> };

/**
 * One trial as its run recorded it, for `sweep status`, the sweep page and the approval page's
 * sweep section: the swept parameters, the sweep's metric as the platform measured it, and why
 * it ended early — the rule's reason for a stopped trial, who cancelled it and why, the failure's
 * cause (else its error) for a failed one, so a row never just says "failed".
 */
export function trialRow(run: TrialRun, metric: string): SweepPageTrial {
  return {
    trial: run.sweep.trial,
    runId: run.runId,
    status: run.status,
    parameters: run.overrides ?? {},
    value: run.metrics?.[metric as keyof Metrics] ?? null,
    reason:
      run.sweep.stopped ??
      (run.cancelled
        ? cancelledBy(run.cancelled)
        : run.failure
          ? run.failure.cause || run.failure.error
          : ''),
    best: Boolean(run.sweep.best),
    version: run.version ?? null,
    trainingSeconds: run.sweep.trainingSeconds ?? null,
    startedAt: run.startedAt,
  };
}
