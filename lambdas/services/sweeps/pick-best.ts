import { z } from 'zod';
import type { Registry } from '../../adapters/registry/registry.js';
import { batchJobResultSchema } from '../../contracts/batch-jobs.js';
import {
  type EvaluationResult,
  evaluationResultSchema,
  type PipelineState,
  runInfoSchema,
} from '../../contracts/pipeline.js';
import type { SweepPlan } from '../../contracts/sweep.js';
import { SweepFailed } from '../../domain/errors.js';
import { failureOutcome } from '../../domain/pipeline/failure-outcome.js';
import { cancelledBy } from '../../domain/registry/run-cancel.js';
import { pickBest } from '../../domain/sweeps/best.js';
import { sweepRuns } from './check-trial.js';

/** What one iteration of the trials' Map ends with (the ASL's TrialEvaluated, TrialStopped, TrialFailed). */
export const trialOutcomeSchema = z.discriminatedUnion('status', [
  z.object({
    index: z.number().int(),
    status: z.literal('evaluated'),
    run: runInfoSchema,
    train: batchJobResultSchema.optional(),
    evaluation: evaluationResultSchema,
  }),
  z.object({ index: z.number().int(), status: z.literal('stopped'), reason: z.string() }),
  z.object({
    index: z.number().int(),
    status: z.literal('failed'),
    error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).passthrough(),
  }),
]);
export type TrialOutcomeResult = z.infer<typeof trialOutcomeSchema>;

/** One row of the sweep's table: what the approval page and `sweep status` show. */
export interface SweepTrialRow {
  readonly index: number;
  readonly runId: string | null;
  readonly status: 'evaluated' | 'stopped' | 'failed' | 'cancelled';
  readonly overrides: Readonly<Record<string, string | number | boolean>>;
  /** The sweep's metric as the platform measured it (evaluated trials). */
  readonly value: number | null;
  /** Why it stopped or failed. */
  readonly reason: string;
}

export interface SweepResult {
  readonly id: string;
  readonly metric: string;
  readonly direction: 'max' | 'min';
  readonly best: number;
  readonly trials: readonly SweepTrialRow[];
}

export interface PickBestDeps {
  readonly registry: Pick<Registry, 'runs'>;
  readonly clock?: () => Date;
}

export type PickBestInput = PipelineState & { sweep: SweepPlan; trials: readonly TrialOutcomeResult[] };

/** The state Register goes on with: the best trial's run, job and evaluation, and how it was chosen. */
export type PickedState = Omit<PipelineState, 'trial'> & {
  run: z.infer<typeof runInfoSchema>;
  train?: z.infer<typeof batchJobResultSchema>;
  evaluation: EvaluationResult;
  sweepResult: SweepResult;
};

const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/**
 * PickBest: after the trials' Map, records how each trial ended on its run (failed with the
 * reason, evaluated with its metrics), chooses the best evaluated trial by the platform-measured
 * metric (ties to the lower index; stopped and failed trials are never chosen) and hands its
 * run, job and evaluation on to Register as a normal run's, with the table of trials. Throws
 * SweepFailed, naming each trial's end, when no trial was evaluated: nothing is registered.
 */
export async function pickBestTrial(deps: PickBestDeps, state: PickBestInput): Promise<PickedState> {
  const now = (deps.clock ?? (() => new Date()))().toISOString();
  const { rules } = state.sweep;
  const runs = new Map(
    (await sweepRuns(deps.registry, state.model, rules.id)).map((r) => [r.sweep.trial, r]),
  );
  const rows: SweepTrialRow[] = [];
  for (const outcome of [...state.trials].sort((a, b) => a.index - b.index)) {
    const run = runs.get(outcome.index);
    const overrides = state.sweep.trials[outcome.index]?.overrides ?? {};
    const base = { index: outcome.index, runId: run?.runId ?? null, overrides };
    if (run?.status === 'cancelled' && run.cancelled) {
      // Cancelled by a person (`runs cancel`): however far its iteration got, never a candidate.
      rows.push({
        ...base,
        status: 'cancelled',
        value: null,
        reason: cancelledBy(run.cancelled),
      });
    } else if (outcome.status === 'evaluated') {
      rows.push({
        ...base,
        status: 'evaluated',
        value: outcome.evaluation.metrics[rules.metric] ?? null,
        reason: '',
      });
    } else if (outcome.status === 'stopped') {
      rows.push({ ...base, status: 'stopped', value: null, reason: outcome.reason });
    } else if (run?.status === 'stopped' && run.sweep.stopped) {
      // Its job was terminated by the early-stopping watcher, but the task ended failed (a job
      // whose end Batch reported without the watcher's reason): the run record says what it was.
      rows.push({ ...base, status: 'stopped', value: null, reason: run.sweep.stopped });
    } else {
      const failure = failureOutcome('training', outcome.error.Error, outcome.error.Cause);
      const reason = oneLine(failure.detail || outcome.error.Error || 'failed', 300);
      rows.push({ ...base, status: 'failed', value: null, reason });
      if (run) {
        await deps.registry.runs.failRunIfActive(
          state.model,
          run.runId,
          {
            kind: 'trial',
            error: outcome.error.Error ?? 'failed',
            cause: reason,
            ...(failure.logs ? { logs: failure.logs } : {}),
          },
          now,
        );
      }
    }
  }
  const evaluated = state.trials.filter(
    (t): t is Extract<TrialOutcomeResult, { status: 'evaluated' }> =>
      t.status === 'evaluated' && runs.get(t.index)?.status !== 'cancelled',
  );
  const { best } = pickBest(
    evaluated.map((t) => ({ ...t, metrics: t.evaluation.metrics as Record<string, number | undefined> })),
    rules.metric,
    rules.direction,
  );
  if (!best) {
    const ends = rows.map(
      (r) => `trial ${r.index} ${r.status}${r.reason ? ` (${oneLine(r.reason, 80)})` : ''}`,
    );
    throw new SweepFailed(
      oneLine(
        `no trial of sweep ${rules.id} was evaluated, so nothing is registered: ${ends.join('; ')}`,
        480,
      ),
    );
  }
  for (const t of evaluated) {
    const run = runs.get(t.index);
    if (!run) continue;
    await deps.registry.runs.updateRun(state.model, run.runId, {
      ...(t.index === best.index ? {} : { status: 'evaluated', finishedAt: now }),
      metrics: t.evaluation.metrics,
      sweep: {
        ...run.sweep,
        ...(t.index === best.index
          ? { best: true, chosenBy: { metric: rules.metric, direction: rules.direction } }
          : {}),
      },
    });
  }
  const { trials: _trials, trial: _trial, ...rest } = state;
  return {
    ...rest,
    run: best.run,
    ...(best.train ? { train: best.train } : {}),
    evaluation: best.evaluation,
    sweepResult: {
      id: rules.id,
      metric: rules.metric,
      direction: rules.direction,
      best: best.index,
      trials: rows,
    },
  };
}
