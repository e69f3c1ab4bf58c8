import type { ApprovalStore } from '../../adapters/approval/approval-store.js';
import type { BatchJobControl } from '../../adapters/pipeline/job-control.js';
import type { Registry } from '../../adapters/registry/registry.js';
import type { Executions } from '../../adapters/stepfunctions/executions.js';
import { lifecycleJobName } from '../../contracts/batch-jobs.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../domain/errors.js';
import { requireModel } from '../../domain/pipeline/admission.js';
import {
  cancelCause,
  cancellationReason,
  mayCancelRun,
  RUN_CANCELLED_ERROR,
  runCancellers,
} from '../../domain/registry/run-cancel.js';
import type { RunRecord } from '../../domain/registry/types.js';

export interface CancelRunDeps {
  readonly config: MlcycleConfig;
  readonly registry: Pick<Registry, 'runs'>;
  readonly executions: Pick<Executions, 'stop'>;
  /** Whether a registered run's version is approved (its execution then deploys it). */
  readonly approvals: Pick<ApprovalStore, 'findForVersion'>;
  /** Terminates a sweep trial's jobs: the trial alone is cancelled, its sweep goes on. */
  readonly jobs: Pick<BatchJobControl, 'stopJobs'>;
  readonly clock?: () => Date;
}

export interface CancelRunInput {
  readonly model: string;
  readonly runId: string;
  readonly reason: string;
  /** The authenticated caller (never a field of the request). */
  readonly actor: string;
}

export interface CancelRunResult {
  readonly model: string;
  readonly runId: string;
  readonly status: 'cancelled';
  /** The status the run had when it was cancelled. */
  readonly was: RunRecord['status'];
  readonly cancelled: NonNullable<RunRecord['cancelled']>;
  readonly executionArn: string | null;
  /**
   * False when the execution had already ended by itself (the run is cancelled all the same), and
   * for a sweep trial, whose execution goes on with the other trials.
   */
  readonly executionStopped: boolean;
  /** A sweep trial's: the sweep it belongs to (which goes on) and its jobs now terminated. */
  readonly trialOf?: {
    readonly sweepId: string;
    readonly trial: number;
    readonly jobsStopped: readonly string[];
  };
}

/**
 * `runs cancel`: by the run's requester or a person who governs its stage (deployed config),
 * records the run cancelled with who, when and why — first, so nothing its execution still does
 * can mark it otherwise — then stops the execution with that cause. Its ended-execution handler
 * then terminates the Batch jobs it left running and closes its approval requests. A sweep
 * trial not chosen has its own jobs terminated instead, and its sweep goes on. A run that has
 * ended is refused (409) naming how it ended; if the execution (or the trial's jobs) cannot be
 * stopped, the run goes back to the status it had and the error is the caller's.
 */
export async function cancelRun(deps: CancelRunDeps, input: CancelRunInput): Promise<CancelRunResult> {
  requireModel(deps.config, input.model);
  const reason = cancellationReason(input.reason);
  const run = await deps.registry.runs.getRun(input.model, input.runId);
  if (!run) {
    throw new NotFoundError(
      `no run ${input.runId} of ${input.model}: \`mlcycle runs list --model ${input.model}\` shows the runs`,
    );
  }
  if (!mayCancelRun(deps.config, run, input.actor)) {
    throw new ForbiddenError(
      `${input.actor} may not cancel run ${run.runId} of ${run.model} (allowed: ${runCancellers(deps.config, run).join(', ') || 'nobody'} — the requester, and the approvers or rollbackBy of ${run.stage})`,
    );
  }
  await refuseWhileDeploying(deps, run);
  const cancelled = {
    by: input.actor,
    at: (deps.clock ?? (() => new Date()))().toISOString(),
    reason,
  };
  const was = await deps.registry.runs.cancelRunIfActive(run.model, run.runId, cancelled);
  if (!was) {
    const now = (await deps.registry.runs.getRun(run.model, run.runId)) ?? run;
    throw new ConflictError(
      `run ${run.runId} of ${run.model} has already ended: it is ${now.status}${now.cancelled ? ` (by ${now.cancelled.by}: ${now.cancelled.reason})` : ''}; nothing to cancel`,
    );
  }
  let ended: Pick<CancelRunResult, 'executionStopped' | 'trialOf'>;
  try {
    ended = await stopWhatRuns(deps, run, cancelCause(run.runId, input.actor, reason));
  } catch (err) {
    await deps.registry.runs.restoreCancelled(run.model, run.runId, was, cancelled.at);
    throw err;
  }
  return {
    model: run.model,
    runId: run.runId,
    status: 'cancelled',
    was,
    cancelled,
    executionArn: run.executionArn ?? null,
    ...ended,
  };
}

/**
 * A trial the sweep has not chosen is one of several: its jobs are terminated (its Map iteration
 * then ends failed, PickBest shows it cancelled and never chooses it) and the sweep goes on. Any
 * other run — the chosen trial included — is its execution: that is stopped.
 */
async function stopWhatRuns(
  deps: CancelRunDeps,
  run: RunRecord,
  cause: string,
): Promise<Pick<CancelRunResult, 'executionStopped' | 'trialOf'>> {
  if (run.sweep && !run.sweep.best) {
    const names = (['train', 'predict'] as const).map((k) => lifecycleJobName(k, run.model, run.runId));
    const jobsStopped = await deps.jobs.stopJobs(names, `mlcycle: ${cause}`);
    // PickBest may have chosen it meanwhile: then it is the sweep's run, and Register refuses it.
    const trialOf = { sweepId: run.sweep.id, trial: run.sweep.trial, jobsStopped };
    return { executionStopped: false, trialOf };
  }
  const executionStopped = run.executionArn
    ? await deps.executions.stop(run.executionArn, RUN_CANCELLED_ERROR, cause)
    : false;
  return { executionStopped };
}

/**
 * A registered run whose version is approved for its stage, or needs no approval there, is (about
 * to be) deployed: stopping the execution now could leave the version serving with its run
 * marked cancelled. What undoes a deployment is a rollback, so that is what the refusal names.
 */
export async function refuseWhileDeploying(
  deps: Pick<CancelRunDeps, 'config' | 'approvals'>,
  run: RunRecord,
): Promise<void> {
  if (run.status !== 'registered' || !run.version) return;
  const noApproval = deps.config.environments[run.stage]?.quorum === 0;
  const approved =
    !noApproval &&
    (await deps.approvals.findForVersion(run.model, run.version, run.stage))?.status === 'approved';
  if (!noApproval && !approved) return;
  throw new ConflictError(
    `run ${run.runId} of ${run.model} registered ${run.version}, which ${noApproval ? 'needs no approval' : 'is approved'} for ${run.stage} and is being deployed: it can no longer be cancelled; if it must not serve, roll back: mlcycle models rollback ${run.model} --stage ${run.stage} --reason …`,
  );
}
