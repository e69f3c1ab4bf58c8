import type { ApprovalStore } from '../../adapters/approval/approval-store.js';
import type { BatchJobControl } from '../../adapters/pipeline/job-control.js';
import type { Executions } from '../../adapters/stepfunctions/executions.js';
import { lifecycleJobName, smokeJobName } from '../../contracts/batch-jobs.js';
import type { ExecutionEndedStatus } from '../../contracts/execution-events.js';
import { FAILURE_KINDS, type FailureKind } from '../../contracts/pipeline.js';
import { closingNote, type WaitEnd } from '../../domain/approval/signal.js';
import {
  type ExecutionEndOutcome,
  executionEndOutcome,
  failureOutcome,
} from '../../domain/pipeline/failure-outcome.js';
import { sweepRuns } from '../sweeps/check-trial.js';
import { alertOnce, failureMessage, type PipelineFailureDeps, settleVersion } from './record-failure.js';

/** An execution of the lifecycle that ended without deploying, as its status-change event says. */
export interface EndedExecution {
  readonly executionArn: string;
  readonly status: ExecutionEndedStatus;
  readonly error?: string;
  readonly cause?: string;
  /** The execution input (JSON text), when the event carried it. */
  readonly input?: string;
}

export interface ExecutionEndedDeps extends PipelineFailureDeps {
  readonly approvals: Pick<
    ApprovalStore,
    'expireForVersion' | 'openForExecution' | 'close' | 'signals' | 'findForVersion' | 'closeSpentApproval'
  >;
  /** Reads the state the execution ended with, from its history. */
  readonly executions: Pick<Executions, 'lastState'>;
  /** Stops the Batch jobs the execution left running (a task-token wait does not stop them). */
  readonly jobs?: Pick<BatchJobControl, 'stopJobs'>;
}

export interface ExecutionEndedResult {
  readonly executionArn: string;
  readonly status: ExecutionEndedStatus;
  /** Approval requests closed (or whose callback was given up) because the execution ended. */
  readonly closedRequests: readonly string[];
  /** The run marked failed, if it had not finished. */
  readonly runFailed: string | null;
  /** The version moved to failed/rejected, if it was still undecided. */
  readonly versionSettled: string | null;
  /** The alert's id, or null when the execution had been alerted already (by RecordFailure). */
  readonly notified: string | null;
  /** Batch jobs of the execution that were still active and are now terminated. */
  readonly jobsStopped: readonly string[];
  /** A sweep's trial runs (other than `runFailed`) it left active, now marked failed. */
  readonly trialsFailed?: readonly string[];
}

type Json = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

function parseInput(text: string | undefined): Json | undefined {
  try {
    return text ? obj(JSON.parse(text)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An execution ended (stopped, timed out, or failed where nothing caught it — RecordFailure
 * failing too, the local runtime going away). Makes the records agree with it:
 * - its approval requests are closed: an undecided one can no longer take effect, and an
 *   approval whose callback was not delivered took none (nothing deploys); pages say so, and
 *   no reminders go out;
 * - its run, if not finished, is failed with the execution's error and cause, and a version it
 *   registered that is still undecided is failed (or, when RecordFailure had been reached, moved
 *   where that failure path leaves it);
 * - the failure is recorded and alerted, unless RecordFailure already did: once per execution.
 * Idempotent: EventBridge may deliver the event twice, and the reconciler calls it too.
 */
export async function handleExecutionEnded(
  deps: ExecutionEndedDeps,
  ended: EndedExecution,
): Promise<ExecutionEndedResult> {
  const now = (deps.clock ?? (() => new Date()))();
  const end: WaitEnd = {
    kind: 'ended',
    status: ended.status,
    ...(ended.error ? { error: ended.error } : {}),
  };
  const closedRequests: string[] = [];
  for (const request of await deps.approvals.openForExecution(ended.executionArn)) {
    const note = closingNote(request, end);
    const closed =
      request.status === 'pending'
        ? await deps.approvals.close(request.requestId, note)
        : await deps.approvals.signals.undeliverable(request, note);
    if (closed) closedRequests.push(request.requestId);
  }

  // The state as far as the execution got (its history), else what it was started with.
  const state =
    (await deps.executions.lastState(ended.executionArn).catch(() => undefined)) ?? parseInput(ended.input);
  const model = str(state?.model);
  const stage = str(state?.stage) ?? '?';
  const promote = str(state?.promote);
  const runId = str(obj(state?.run)?.runId);
  const version = str(obj(state?.registration)?.version);
  const reached = str(state?.failureKind);
  const failureKind = (FAILURE_KINDS as readonly string[]).includes(reached ?? '')
    ? (reached as FailureKind)
    : undefined;
  const outcome: ExecutionEndOutcome = failureKind
    ? {
        // RecordFailure was reached and did not finish: do what it would have done.
        ...failureOutcome(failureKind, str(obj(state?.error)?.Error), str(obj(state?.error)?.Cause)),
        kind: failureKind,
      }
    : executionEndOutcome(ended.status, ended.error, ended.cause);
  const detail = [outcome.detail, failureKind ? `the execution then ${endedHow(ended)}` : '']
    .filter(Boolean)
    .join('; ');

  // An approval this execution received and could not use (Deploy refused, failed, or the
  // execution was stopped after the callback) is spent: nothing may deploy on it later.
  if (model && version && stage !== '?') {
    const approved = await deps.approvals.findForVersion(model, version, stage);
    if (approved?.executionArn === ended.executionArn && approved.status === 'approved') {
      if (await deps.approvals.closeSpentApproval(approved, closingNote(approved, end))) {
        closedRequests.push(approved.requestId);
      }
    }
  }

  const name = ended.executionArn.split(':').pop() ?? ended.executionArn;
  // A sweep (its id is the execution's name): trials it left training or evaluating are failed
  // too, and their jobs stopped below (the state is the sweep's, or, inside the Map, a trial's).
  const trialsFailed: string[] = [];
  // Trials cancelled (`runs cancel` stops the execution after recording them): their jobs may run.
  const trialsCancelled: string[] = [];
  if (model && !promote && (obj(state?.sweep) || obj(state?.trial))) {
    for (const trial of await sweepRuns(deps.registry, model, name)) {
      if (trial.runId === runId) continue;
      if (trial.status === 'cancelled') trialsCancelled.push(trial.runId);
      const failure = {
        kind: outcome.kind,
        error: ended.error ?? ended.status,
        cause: detail || outcome.summary,
      };
      if (await deps.registry.runs.failRunIfActive(model, trial.runId, failure, now.toISOString())) {
        trialsFailed.push(trial.runId);
      }
    }
  }

  let runFailed: string | null = null;
  let versionSettled: string | null = null;
  if (model && !promote) {
    if (
      runId &&
      (await deps.registry.runs.failRunIfActive(
        model,
        runId,
        { kind: outcome.kind, error: ended.error ?? ended.status, cause: detail || outcome.summary },
        now.toISOString(),
      ))
    ) {
      runFailed = runId;
    }
    if (version && (await settleVersion(deps, model, version, outcome.versionStatus, outcome.summary))) {
      versionSettled = version;
    }
  }

  // Its train, predict and smoke-test jobs, by the names the ASL gives them: a job still running
  // would hold its (GPU) instance until its attempt timeout for a run that no longer exists.
  const jobNames = model
    ? [
        ...(runId && !promote
          ? (['train', 'predict'] as const).map((k) => lifecycleJobName(k, model, runId))
          : []),
        ...[...trialsFailed, ...trialsCancelled].flatMap((trial) =>
          (['train', 'predict'] as const).map((k) => lifecycleJobName(k, model, trial)),
        ),
        smokeJobName(name),
      ]
    : [];
  const jobsStopped =
    deps.jobs && jobNames.length
      ? await deps.jobs.stopJobs(jobNames, `mlcycle: the pipeline execution ${name} ended ${ended.status}`)
      : [];
  const alert = model
    ? failureMessage(
        {
          model,
          stage,
          requestedBy: str(state?.requestedBy) ?? '?',
          reason: str(state?.reason) ?? '',
          ...(runId ? { run: { runId } } : {}),
          ...(version ? { registration: { version } } : {}),
        },
        { summary: outcome.summary, detail },
        [
          `Execution: ${ended.executionArn} (${ended.status})`,
          closedRequests.length
            ? `Approval requests closed (nothing will deploy): ${closedRequests.join(', ')}.`
            : '',
          runFailed ? `The run ${runFailed} was marked failed.` : '',
          trialsFailed.length ? `Sweep trials marked failed: ${trialsFailed.join(', ')}.` : '',
          jobsStopped.length ? `Batch jobs it left running were terminated: ${jobsStopped.join(', ')}.` : '',
        ],
      )
    : {
        subject: `[mlcycle] execution ${name}: ${outcome.summary}`,
        message: [
          `Execution: ${ended.executionArn} (${ended.status})`,
          outcome.detail ? `Detail: ${outcome.detail}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      };
  const notified = await alertOnce(
    deps,
    'executionEnded',
    {
      executionArn: ended.executionArn,
      ...(model ? { model } : {}),
      ...(model ? { stage } : {}),
      kind: outcome.kind,
      summary: outcome.summary,
      detail,
      ...(runId && !promote ? { runId } : {}),
      ...(version ? { version } : {}),
    },
    alert,
  );
  return {
    executionArn: ended.executionArn,
    status: ended.status,
    closedRequests,
    runFailed,
    versionSettled,
    notified,
    jobsStopped,
    ...(trialsFailed.length ? { trialsFailed } : {}),
  };
}

function endedHow(ended: EndedExecution): string {
  if (ended.status === 'ABORTED') return 'was stopped before RecordFailure finished';
  if (ended.status === 'TIMED_OUT') return 'timed out before RecordFailure finished';
  return `failed before RecordFailure finished${ended.error ? ` (${ended.error})` : ''}`;
}
