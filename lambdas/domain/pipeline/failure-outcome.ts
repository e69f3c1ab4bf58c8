import type { FailureKind } from '../../contracts/pipeline.js';

export interface FailureOutcome {
  /** Status the registered version moves to (if one was registered). */
  readonly versionStatus: 'failed' | 'rejected';
  /** One line for the notification subject and the registry. */
  readonly summary: string;
  readonly detail: string;
}

const summaries: Record<FailureKind, { status: FailureOutcome['versionStatus']; summary: string }> = {
  // Nothing is registered yet, so the status is never applied.
  preparation: { status: 'failed', summary: 'the run or promotion could not be prepared' },
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
 * What a failure means for the registry and the people told about it. Step Functions hands over
 * the caught error's name and cause (often a JSON document, e.g. a Batch job description).
 */
export function failureOutcome(kind: FailureKind, error?: string, cause?: string): FailureOutcome {
  const { status, summary } = summaries[kind];
  return { versionStatus: status, summary, detail: describeCause(error, cause) };
}

function describeCause(error?: string, cause?: string): string {
  if (!error && !cause) return '';
  let text = cause ?? '';
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const container = parsed.Container as { Reason?: string } | undefined;
    const message = parsed.errorMessage ?? parsed.StatusReason;
    text =
      [container?.Reason, typeof message === 'string' ? message : undefined].filter(Boolean).join(' — ') ||
      text;
  } catch {
    // a plain-text cause stays as it is
  }
  const line = [error, text].filter(Boolean).join(': ');
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
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
