import type { ApprovalStore } from '../../adapters/approval/approval-store.js';
import type { StartStore } from '../../adapters/pipeline/start-store.js';
import type { Registry } from '../../adapters/registry/registry.js';
import type { Executions } from '../../adapters/stepfunctions/executions.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { executionArnOf } from '../../contracts/state-machine.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../domain/errors.js';
import { requireModel } from '../../domain/pipeline/admission.js';
import { cancellationReason, mayCancelRun, runCancellers } from '../../domain/registry/run-cancel.js';
import type { RunRecord, RunStatus } from '../../domain/registry/types.js';
import { refuseWhileDeploying } from '../pipeline/cancel-run.js';
import { sweepRuns } from './check-trial.js';

export interface StopSweepDeps {
  readonly config: MlcycleConfig;
  readonly registry: Pick<Registry, 'runs'>;
  /** Who started the sweep, and what: the start record its execution was admitted with. */
  readonly starts: Pick<StartStore, 'get'>;
  readonly executions: Pick<Executions, 'describe' | 'stop'>;
  /** Whether the chosen trial's version is approved (its execution then deploys it). */
  readonly approvals: Pick<ApprovalStore, 'findForVersion'>;
  readonly stateMachineArn: string;
  readonly clock?: () => Date;
}

export interface StopSweepInput {
  readonly sweepId: string;
  readonly reason: string;
  /** The authenticated caller (never a field of the request). */
  readonly actor: string;
}

export interface StopSweepResult {
  readonly sweepId: string;
  readonly model: string;
  readonly stage: string;
  readonly executionArn: string;
  readonly stopped: NonNullable<RunRecord['cancelled']>;
  /** The trials that were going, now cancelled, with the status each had. */
  readonly trialsCancelled: readonly {
    readonly trial: number;
    readonly runId: string;
    readonly was: RunStatus;
  }[];
}

/** The error a stopped sweep's execution ends with, and its cause (DescribeExecution shows them). */
export const SWEEP_STOPPED_ERROR = 'mlcycle.SweepStopped';
export const sweepStopCause = (sweepId: string, by: string, reason: string) =>
  `sweep ${sweepId} stopped by ${by}: ${reason}`;

/**
 * `sweep stop`: by the person who started the sweep or one who governs its stage (as for `runs
 * cancel`), records every trial still going cancelled with who, when and why — first, so nothing
 * the execution still does marks them otherwise — then stops the execution: trials not started
 * never start, and its end terminates the trials' jobs (execution-ended). A sweep that has ended
 * is refused (409) naming how; one whose chosen version is being deployed is refused pointing at
 * rollback; if the execution cannot be stopped the trials go back to what they were.
 */
export async function stopSweep(deps: StopSweepDeps, input: StopSweepInput): Promise<StopSweepResult> {
  const record = await deps.starts.get(input.sweepId);
  if (!record?.request.sweep) {
    throw new NotFoundError(`no sweep ${input.sweepId}: \`mlcycle sweep list\` shows the sweeps (their ids)`);
  }
  const { model, stage } = record.request;
  requireModel(deps.config, model);
  const reason = cancellationReason(input.reason);
  const owner = { requestedBy: record.requestedBy, stage };
  if (!mayCancelRun(deps.config, owner, input.actor)) {
    throw new ForbiddenError(
      `${input.actor} may not stop sweep ${input.sweepId} (allowed: ${runCancellers(deps.config, owner).join(', ')} — who started it, and the approvers or rollbackBy of ${stage})`,
    );
  }
  const executionArn = executionArnOf(deps.stateMachineArn, input.sweepId);
  const execution = await deps.executions.describe(executionArn);
  if (execution?.status !== 'RUNNING') {
    throw new ConflictError(
      `sweep ${input.sweepId} has already ended${execution ? `: ${execution.status}` : ''}; nothing to stop (\`mlcycle sweep status ${input.sweepId}\` shows how its trials ended)`,
    );
  }
  const trials = await sweepRuns(deps.registry, model, input.sweepId);
  for (const trial of trials) await refuseWhileDeploying(deps, trial);
  const stopped = { by: input.actor, at: (deps.clock ?? (() => new Date()))().toISOString(), reason };
  const trialsCancelled: { trial: number; runId: string; was: RunStatus }[] = [];
  for (const trial of trials) {
    const was = await deps.registry.runs.cancelRunIfActive(model, trial.runId, stopped);
    if (was) trialsCancelled.push({ trial: trial.sweep.trial, runId: trial.runId, was });
  }
  try {
    await deps.executions.stop(
      executionArn,
      SWEEP_STOPPED_ERROR,
      sweepStopCause(input.sweepId, input.actor, reason),
    );
  } catch (err) {
    for (const t of trialsCancelled)
      await deps.registry.runs.restoreCancelled(model, t.runId, t.was, stopped.at);
    throw err;
  }
  return { sweepId: input.sweepId, model, stage, executionArn, stopped, trialsCancelled };
}
