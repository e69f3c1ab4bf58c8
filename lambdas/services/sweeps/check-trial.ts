import type { Registry } from '../../adapters/registry/registry.js';
import type { S3Objects } from '../../adapters/s3-objects.js';
import type { PreparedState } from '../../contracts/pipeline.js';
import type { TrialCheck, TrialRef } from '../../contracts/sweep.js';
import type { RunRecord } from '../../domain/registry/types.js';
import { shouldStop, type TrialCurve } from '../../domain/sweeps/early-stopping.js';
import { epochsOf } from '../registry/run-history.js';

export interface CheckTrialDeps {
  readonly bucket: string;
  readonly objects: S3Objects;
  readonly registry: Pick<Registry, 'runs'>;
  readonly clock?: () => Date;
}

/** The trials of one sweep recorded so far (their run records), by trial index. */
export async function sweepRuns(registry: Pick<Registry, 'runs'>, model: string, sweepId: string) {
  const runs = await registry.runs.listRuns(model, 1000);
  return runs.filter(
    (r): r is RunRecord & { sweep: NonNullable<RunRecord['sweep']> } => r.sweep?.id === sweepId,
  );
}

async function curveOf(
  deps: CheckTrialDeps,
  run: RunRecord,
  metric: string,
  index: number,
): Promise<TrialCurve> {
  const { epochs } = await epochsOf(deps, run);
  return { index, values: epochs.map((e) => e[metric]).filter((v): v is number => typeof v === 'number') };
}

/**
 * CheckTrial: a trial's training job has ended, so its per-epoch metrics (output/metrics.jsonl)
 * are known. Its early-stopping metric is held against the trials of the same sweep that have
 * finished training so far (ASHA rungs or the median rule, domain/sweeps/early-stopping.ts). A
 * stopped trial is recorded `stopped` with the reason (rung or epoch, value, threshold) and is
 * neither evaluated nor chosen; one that goes on is recorded `evaluating`. The rule runs when the
 * trial's training has ended, not during it: stopping saves the trial's evaluation, not its
 * training time.
 */
export async function checkTrial(
  deps: CheckTrialDeps,
  state: PreparedState & { trial: TrialRef },
): Promise<TrialCheck> {
  const { trial } = state;
  const rule = trial.rules.earlyStopping;
  const now = (deps.clock ?? (() => new Date()))();
  const run = await deps.registry.runs.getRun(state.model, state.run.runId);
  if (!run) throw new Error(`run ${state.run.runId} of ${state.model} was not recorded by PrepareRun`);
  const trainingSeconds = Math.max(0, (now.getTime() - Date.parse(run.startedAt)) / 1000);
  const sweep = { id: trial.rules.id, trial: trial.index, trainingSeconds };
  let decision: TrialCheck = { stop: false, reason: 'no early stopping' };
  if (rule.rule !== 'none') {
    const others = (await sweepRuns(deps.registry, state.model, trial.rules.id)).filter(
      (r) => r.runId !== run.runId && r.status !== 'training',
    );
    const curves = await Promise.all(others.map((r) => curveOf(deps, r, rule.metric, r.sweep.trial)));
    decision = shouldStop(await curveOf(deps, run, rule.metric, trial.index), curves, rule);
  }
  if (decision.stop) {
    await deps.registry.runs.updateRun(state.model, run.runId, {
      status: 'stopped',
      finishedAt: now.toISOString(),
      sweep: { ...sweep, stopped: decision.reason },
      ...(state.train?.logs ? { logs: state.train.logs } : {}),
    });
  } else {
    await deps.registry.runs.updateRun(state.model, run.runId, {
      status: 'evaluating',
      sweep,
      ...(state.train?.logs ? { logs: state.train.logs } : {}),
    });
  }
  return decision;
}
