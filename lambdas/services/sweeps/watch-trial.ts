import type { BatchJobControl } from '../../adapters/pipeline/job-control.js';
import { EARLY_STOP_REASON_PREFIX, lifecycleJobName } from '../../contracts/batch-jobs.js';
import { parseProgressKey } from '../../contracts/s3-layout.js';
import { shouldStop } from '../../domain/sweeps/early-stopping.js';
import { type CheckTrialDeps, sweepCurves, type TrialRun, trainingSecondsOf } from './check-trial.js';

export interface WatchTrialDeps extends CheckTrialDeps {
  /** Terminates the trial's Train job on the training queue. */
  readonly jobs: Pick<BatchJobControl, 'stopJobs'>;
}

export type WatchTrialOutcome =
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'continues'; readonly reason: string; readonly epochs: number }
  | {
      readonly outcome: 'stopped';
      readonly reason: string;
      readonly epochs: number;
      /** The job ids terminated (none when the job had ended by then). */
      readonly jobs: readonly string[];
    };

const terminateReason = (reason: string) => `${EARLY_STOP_REASON_PREFIX}${reason}`;

/**
 * A trial's training progress was copied (runs/<model>/<runId>/progress/metrics.jsonl, an S3
 * event): while it trains, its early-stopping rule holds it against the other trials of its sweep
 * so far, and when the rule says stop, the run is recorded `stopped` (only if it still trains)
 * and then its Train job is terminated, so the trial stops spending compute mid-way. The rule is
 * the one PrepareRun recorded on the run from the admitted plan; the job only supplies its
 * metrics. An event for a run already recorded stopped (a redelivery, or a job that outlived the
 * first TerminateJob) terminates the job again.
 */
export async function watchTrialProgress(deps: WatchTrialDeps, key: string): Promise<WatchTrialOutcome> {
  const ref = parseProgressKey(key);
  if (!ref) return { outcome: 'ignored', reason: `${key} is not a run's progress/metrics.jsonl` };
  const found = await deps.registry.runs.getRun(ref.model, ref.runId);
  const rule = found?.sweep?.earlyStopping;
  if (!found?.sweep || !rule || rule.rule === 'none') {
    return { outcome: 'ignored', reason: `run ${ref.runId} is not a sweep trial with early stopping` };
  }
  const run = found as TrialRun;
  const jobName = lifecycleJobName('train', run.model, run.runId);
  if (run.status === 'stopped' && run.sweep.stopped) {
    const jobs = await deps.jobs.stopJobs([jobName], terminateReason(run.sweep.stopped));
    return { outcome: 'stopped', reason: run.sweep.stopped, epochs: run.sweep.stoppedAtEpoch ?? 0, jobs };
  }
  if (run.status !== 'training') {
    return { outcome: 'ignored', reason: `run ${run.runId} is ${run.status}: its training has ended` };
  }
  const { trial, others } = await sweepCurves(deps, run, rule);
  const epochs = trial.values.length;
  // No value yet is a trainer that has not written the metric so far: CheckTrial decides that
  // when the training ends, on the whole file.
  if (!epochs) return { outcome: 'continues', reason: `no ${rule.metric} value yet`, epochs };
  const decision = shouldStop(trial, others, rule);
  if (!decision.stop) {
    // A rung passed stays passed: recorded, so it is never judged again against later peers.
    if (decision.judgedThrough > (run.sweep.judgedThrough ?? 0)) {
      await deps.registry.runs.recordJudgedThrough(run.model, run.runId, decision.judgedThrough);
    }
    return { outcome: 'continues', reason: decision.reason, epochs };
  }
  const now = (deps.clock ?? (() => new Date()))();
  const reason = `stopped while training, after epoch ${epochs}: ${decision.reason}`;
  const recorded = await deps.registry.runs.stopTrialIfTraining(
    run.model,
    run.runId,
    {
      ...run.sweep,
      stopped: reason,
      stoppedAtEpoch: epochs,
      judgedThrough: decision.judgedThrough,
      trainingSeconds: trainingSecondsOf(run, now),
    },
    now.toISOString(),
  );
  if (!recorded) return { outcome: 'ignored', reason: `run ${run.runId} stopped training meanwhile` };
  const jobs = await deps.jobs.stopJobs([jobName], terminateReason(reason));
  return { outcome: 'stopped', reason, epochs, jobs };
}
