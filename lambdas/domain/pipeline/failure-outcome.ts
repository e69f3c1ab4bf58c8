import type { FailureKind } from '../../contracts/pipeline.js';

export interface FailureOutcome {
  /** Status the registered version moves to (if one was registered). */
  readonly versionStatus: 'failed' | 'rejected';
  /** One line for the notification subject and the registry. */
  readonly summary: string;
  readonly detail: string;
  /** Where the failed job's output can be read (a Batch job's container logs), when known. */
  readonly logs?: string;
}

const summaries: Record<FailureKind, { status: FailureOutcome['versionStatus']; summary: string }> = {
  // Nothing is registered yet, so the status is never applied.
  preparation: { status: 'failed', summary: 'the run or promotion could not be started' },
  training: { status: 'failed', summary: 'training failed' },
  evaluation: { status: 'failed', summary: 'evaluation failed' },
  registration: { status: 'failed', summary: 'registration failed' },
  gate: { status: 'rejected', summary: 'a required gate failed' },
  rejected: { status: 'rejected', summary: 'rejected by an approver' },
  timeout: { status: 'rejected', summary: 'approval expired before quorum was reached' },
  approval: { status: 'failed', summary: 'the approval request could not be made' },
  deploy: { status: 'failed', summary: 'deployment validation or promotion failed' },
};

/**
 * What to check when the job queue cancelled a job that waited RUNNABLE too long, by the reason
 * Batch names ("Canceled by JobStateTimeLimit action due to reason: <reason>").
 */
const STUCK_RUNNABLE: Readonly<Record<string, string>> = {
  'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY':
    'no capacity: check the Spot G/VT quota (Service Quotas L-3819A6DF, 0 vCPUs on new accounts; ' +
    'L-DB2E81BA for On-Demand) and that the instance types are offered in this region; `mlcycle doctor --aws` checks the quota',
  'MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE':
    "the job needs more vCPUs than the compute environment's maxvCpus: lower training.resources.vcpus",
  'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT':
    'no instance type of the compute environment has the GPUs, vCPUs and memory the job asks for: ' +
    'adjust training.resources or training.instanceTypes',
};

/**
 * What a failure means for the registry and the people told about it. Step Functions hands over
 * the caught error's name and cause (often a JSON document, e.g. a Batch job description).
 */
export function failureOutcome(kind: FailureKind, error?: string, cause?: string): FailureOutcome {
  const { status, summary } = summaries[kind];
  const logs = logsOf(cause);
  return { versionStatus: status, summary, detail: describeCause(error, cause), ...(logs ? { logs } : {}) };
}

/** The one line an execution's failure is known by (its Fail state's cause, the CLI's last line). */
export function failureCause(outcome: FailureOutcome): string {
  return outcome.detail ? `${outcome.summary}: ${outcome.detail}` : outcome.summary;
}

/** The required gates that failed, for a gate failure's detail. */
export function failedGates(gate: unknown): string {
  const results = (gate as { results?: { required?: boolean; passed?: boolean; detail?: string }[] })
    ?.results;
  if (!Array.isArray(results)) return '';
  return results
    .filter((r) => r.required && !r.passed)
    .map((r) => r.detail ?? '')
    .filter(Boolean)
    .join('; ');
}

/** The `Logs` a failed Batch job's cause names (lambdas/domain/pipeline/batch-job-outcome.ts). */
function logsOf(cause?: string): string | undefined {
  try {
    const logs = (JSON.parse(cause ?? '') as { Logs?: unknown }).Logs;
    return typeof logs === 'string' && logs ? logs : undefined;
  } catch {
    return undefined;
  }
}

function describeCause(error?: string, cause?: string): string {
  if (!error && !cause) return '';
  let text = cause ?? '';
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const container = parsed.Container as { Reason?: string } | undefined;
    const stuck = typeof parsed.StatusReason === 'string' ? stuckRunnable(parsed.StatusReason) : undefined;
    const message = stuck ?? parsed.errorMessage ?? parsed.StatusReason;
    text =
      [container?.Reason, typeof message === 'string' ? message : undefined].filter(Boolean).join(' — ') ||
      text;
  } catch {
    // a plain-text cause stays as it is
  }
  const line = [error, text].filter(Boolean).join(': ');
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}

function stuckRunnable(statusReason: string): string | undefined {
  if (!/JobStateTimeLimit/i.test(statusReason)) return undefined;
  const reason = Object.keys(STUCK_RUNNABLE).find((r) => statusReason.includes(r));
  return reason ? `${STUCK_RUNNABLE[reason]} (${statusReason})` : undefined;
}

/** How an execution ended without its RecordFailure state having recorded it. */
export type EndedStatus = 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionEndOutcome extends FailureOutcome {
  /** Recorded as the run's failure kind: `aborted`, `timed-out` or `failed`. */
  readonly kind: string;
}

/**
 * What an execution that ended outside the ASL's failure paths means: it was stopped, it ran
 * past the state machine's timeout, or it failed where nothing caught it (RecordFailure itself
 * failing, the local runtime going away). A version it registered never passed: `failed`.
 */
export function executionEndOutcome(
  status: EndedStatus,
  error?: string,
  cause?: string,
): ExecutionEndOutcome {
  const summary =
    status === 'ABORTED'
      ? 'the pipeline execution was stopped'
      : status === 'TIMED_OUT'
        ? 'the pipeline execution timed out'
        : `the pipeline execution failed${error ? ` (${error})` : ''}`;
  const kind = status === 'ABORTED' ? 'aborted' : status === 'TIMED_OUT' ? 'timed-out' : 'failed';
  return { kind, versionStatus: 'failed', summary, detail: describeCause(error, cause) };
}
