import type { Registry } from '../../adapters/registry/registry.js';
import type { S3Objects } from '../../adapters/s3-objects.js';
import type { PreparedState } from '../../contracts/pipeline.js';
import type { TrialCheck, TrialRef } from '../../contracts/sweep.js';
import { cancelledBy } from '../../domain/registry/run-cancel.js';
import type { RunRecord } from '../../domain/registry/types.js';
import type { StopDecision, StoppingRule, TrialCurve } from '../../domain/sweeps/early-stopping.js';
import { shouldStop } from '../../domain/sweeps/early-stopping.js';
import type { TrialRun } from '../../domain/sweeps/trial-row.js';
import { epochsOf } from '../registry/run-history.js';

export interface CheckTrialDeps {
  readonly bucket: string;
  readonly objects: S3Objects;
  readonly registry: Pick<Registry, 'runs'>;
  readonly clock?: () => Date;
}

export type { TrialRun };

/**
 * The trials of one sweep recorded so far (their run records), in trial order (run ids sort by
 * start time only to the second, so trials started together would come in any order).
 */
export async function sweepRuns(registry: Pick<Registry, 'runs'>, model: string, sweepId: string) {
  const runs = await registry.runs.listSweepRuns(model, sweepId);
  return runs
    .filter((r): r is TrialRun => r.sweep?.id === sweepId)
    .sort((a, b) => a.sweep.trial - b.sweep.trial);
}

async function curveOf(deps: CheckTrialDeps, run: TrialRun, metric: string): Promise<TrialCurve> {
  const { epochs } = await epochsOf(deps, run);
  const values = epochs.map((e) => e[metric]).filter((v): v is number => typeof v === 'number');
  const judgedThrough = run.sweep.judgedThrough;
  // A stopped trial counts up to where it was stopped, not what its job trained after.
  const counted = run.status === 'stopped' && judgedThrough ? values.slice(0, judgedThrough) : values;
  return { index: run.sweep.trial, values: counted, ...(judgedThrough ? { judgedThrough } : {}) };
}

/**
 * A trial's curve of the early-stopping metric and those of the other trials of its sweep as far
 * as they have got: published metrics.jsonl for a trial whose training ended, the progress
 * copied so far for one still training (or stopped while it trained). Asynchronous ASHA and the
 * median rule compare with whatever peers reached an epoch, running or not.
 */
export async function sweepCurves(
  deps: CheckTrialDeps,
  run: TrialRun,
  rule: StoppingRule,
): Promise<{ trial: TrialCurve; others: TrialCurve[] }> {
  // A cancelled trial is no longer a contender: no rung or median is judged against it.
  const peers = (await sweepRuns(deps.registry, run.model, run.sweep.id)).filter(
    (r) => r.runId !== run.runId && r.status !== 'cancelled',
  );
  const [trial, ...others] = await Promise.all([run, ...peers].map((r) => curveOf(deps, r, rule.metric)));
  return { trial: trial as TrialCurve, others };
}

/** Seconds from a run's start to `now`: the end of its training (the sweep's overhead figures). */
export const trainingSecondsOf = (run: RunRecord, now: Date) =>
  Math.max(0, (now.getTime() - Date.parse(run.startedAt)) / 1000);

/**
 * CheckTrial: a trial's training job has ended, so its per-epoch metrics (output/metrics.jsonl)
 * are known. Its early-stopping metric is held against the trials of the same sweep so far
 * (ASHA rungs or the median rule, domain/sweeps/early-stopping.ts). A stopped trial is recorded
 * `stopped` with the reason (rung or epoch, value, threshold) and is neither evaluated nor
 * chosen; one that goes on is recorded `evaluating`. A trial the watcher of its training
 * progress already stopped (watch-trial.ts; its job was terminated) stays as the watcher
 * recorded it.
 */
export async function checkTrial(
  deps: CheckTrialDeps,
  state: PreparedState & { trial: TrialRef },
): Promise<TrialCheck> {
  const { trial } = state;
  const rule = trial.rules.earlyStopping;
  const now = (deps.clock ?? (() => new Date()))();
  const found = await deps.registry.runs.getRun(state.model, state.run.runId);
  if (!found) throw new Error(`run ${state.run.runId} of ${state.model} was not recorded by PrepareRun`);
  const logs = state.train?.logs ? { logs: state.train.logs } : {};
  // Cancelled while its job was ending (`runs cancel`): it goes no further, and stays cancelled.
  if (found.status === 'cancelled' && found.cancelled) {
    return { stop: true, reason: cancelledBy(found.cancelled) };
  }
  if (found.status === 'stopped' && found.sweep?.stopped) {
    await deps.registry.runs.updateRun(state.model, found.runId, logs);
    return { stop: true, reason: found.sweep.stopped };
  }
  if (state.train?.status === 'STOPPED') {
    throw new Error(
      `the training job of run ${found.runId} was terminated as stopped early, but the run is recorded ${found.status}, not stopped: only the early-stopping watcher terminates a trial so`,
    );
  }
  const run: TrialRun = { ...found, sweep: { ...found.sweep, id: trial.rules.id, trial: trial.index } };
  const sweep = { ...run.sweep, trainingSeconds: trainingSecondsOf(run, now) };
  let decision: StopDecision = { stop: false, reason: 'no early stopping', judgedThrough: 0 };
  if (rule.rule !== 'none') {
    const { trial: curve, others } = await sweepCurves(deps, run, rule);
    decision = shouldStop(curve, others, rule);
  }
  const judged = decision.judgedThrough ? { judgedThrough: decision.judgedThrough } : {};
  await deps.registry.runs.updateRun(state.model, run.runId, {
    ...(decision.stop
      ? {
          status: 'stopped',
          finishedAt: now.toISOString(),
          sweep: { ...sweep, ...judged, stopped: decision.reason },
        }
      : { status: 'evaluating', sweep: { ...sweep, ...judged } }),
    ...logs,
  });
  return { stop: decision.stop, reason: decision.reason };
}
