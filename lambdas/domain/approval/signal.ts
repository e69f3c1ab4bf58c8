import { ERROR_NAMES } from '../../contracts/errors.js';
import type { ApprovalOutcome } from '../../contracts/pipeline.js';
import { outcomeNote, type Tally } from './policy.js';
import type { ApprovalRequest, TaskSignal } from './types.js';

/**
 * How long the caller whose decision completed a request holds its signal before the
 * reconciler may deliver it instead (so the two do not race in the common case).
 */
export const SIGNAL_LEASE_SECONDS = 60;

/**
 * The callback a completed request owes its execution: SendTaskSuccess with who approved, or
 * SendTaskFailure ApprovalRejected with the approver's reason. Computed once, with the decision
 * that completes the request, and stored with it, so every redelivery sends the same thing.
 */
export function taskSignalFor(
  request: ApprovalRequest,
  result: Exclude<Tally, { outcome: 'waiting' }>,
  now: Date,
): TaskSignal {
  if (result.outcome === 'approved') {
    const output: ApprovalOutcome = {
      requestId: request.requestId,
      approvedBy: result.approvedBy.map((d) => ({
        approver: d.approver,
        comment: d.comment,
        decidedAt: d.decidedAt,
      })),
      completedAt: now.toISOString(),
    };
    return { kind: 'success', output: JSON.stringify(output) };
  }
  // Step Functions caps the cause at 32,768 characters; comments are far shorter.
  return {
    kind: 'failure',
    error: ERROR_NAMES.approvalRejected,
    cause: outcomeNote(result).slice(0, 32_000),
  };
}

/**
 * How an execution stopped waiting for a request: it ended with a status (Step Functions'
 * DescribeExecution or its status-change event), it no longer exists, or Step Functions
 * refused the callback (TaskTimedOut, TaskDoesNotExist, InvalidToken).
 */
export type WaitEnd =
  | { readonly kind: 'ended'; readonly status: string; readonly error?: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'refused'; readonly error: string };

export function describeWaitEnd(end: WaitEnd): string {
  if (end.kind === 'missing') return 'no longer exists';
  if (end.kind === 'refused') return `no longer waits for this approval (${end.error})`;
  if (end.status === 'ABORTED') return 'was stopped';
  if (end.status === 'TIMED_OUT') return 'timed out';
  if (end.status === 'SUCCEEDED') return 'finished';
  return `failed${end.error ? ` (${end.error})` : ''}`;
}

/** The note a request gets when it is closed because its execution stopped waiting. */
export function closingNote(request: ApprovalRequest, end: WaitEnd): string {
  const how = `the pipeline execution ${describeWaitEnd(end)}`;
  if (request.status === 'rejected') return `${request.outcomeNote ?? 'rejected'}; ${how}`;
  const approved = request.status === 'approved';
  const before =
    end.kind === 'missing' ? '' : approved ? ' before it could deploy' : ' before a decision was reached';
  return `${approved ? `${request.outcomeNote ?? 'approved'}, but ` : ''}${how}${before}: nothing will deploy`;
}
