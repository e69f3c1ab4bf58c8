import { ApprovalExpired, ConflictError, ForbiddenError, ValidationError } from '../errors.js';
import { normalizeEmail } from './request.js';
import type { ApprovalRequest, Decision, DecisionKind } from './types.js';

/** Longest comment kept (it travels in the Step Functions cause and the promotion ledger). */
export const MAX_COMMENT_LENGTH = 2000;

export function isExpired(request: ApprovalRequest, now: Date): boolean {
  return request.status === 'expired' || now.getTime() >= Date.parse(request.expiresAt);
}

export function decisionOf(decisions: readonly Decision[], approver: string): Decision | undefined {
  const who = normalizeEmail(approver);
  return decisions.find((d) => d.approver === who);
}

/**
 * Who may decide, checked in this order: an approver of the environment, not the person who
 * asked (separation of duties), while the request is open (not closed because its execution
 * ended, not expired, not decided). Throws the error whose status the HTTP layer answers with
 * (403, 410, 409).
 */
export function checkMayDecide(request: ApprovalRequest, approver: string, now: Date): void {
  const who = normalizeEmail(approver);
  if (!request.approvers.includes(who)) {
    throw new ForbiddenError(
      `${approver} is not an approver of ${request.stage} (approvers: ${request.approvers.join(', ')})`,
    );
  }
  if (normalizeEmail(request.requestedBy) === who) {
    throw new ForbiddenError(`${approver} asked for this promotion and so may not approve or reject it`);
  }
  if (request.status === 'closed') {
    // Gone, like an expired link: the execution that asked no longer waits for anyone.
    throw new ApprovalExpired(
      `request ${request.requestId} is closed${request.outcomeNote ? ` (${request.outcomeNote})` : ''}`,
    );
  }
  if (isExpired(request, now)) {
    throw new ApprovalExpired(`request ${request.requestId} expired at ${request.expiresAt}`);
  }
  if (request.status !== 'pending') {
    throw new ConflictError(
      `request ${request.requestId} is already ${request.status}${request.outcomeNote ? ` (${request.outcomeNote})` : ''}`,
    );
  }
}

/** The decision's own content: a rejection says why, and comments stay a readable size. */
export function checkDecisionContent(decision: DecisionKind, comment: string): void {
  if (decision === 'reject' && !comment.trim()) {
    throw new ValidationError('a rejection needs a comment saying why, so the requestor knows what to fix');
  }
  if (comment.length > MAX_COMMENT_LENGTH) {
    throw new ValidationError(
      `the comment has ${comment.length} characters; keep it under ${MAX_COMMENT_LENGTH}`,
    );
  }
}

export function alreadyDecided(earlier: Decision): ConflictError {
  return new ConflictError(
    `${earlier.approver} already decided (${earlier.decision}) at ${earlier.decidedAt}`,
    {
      decision: earlier,
    },
  );
}

export type Tally =
  | {
      readonly outcome: 'rejected';
      readonly by: Decision;
      readonly approvals: number;
      readonly needed: number;
    }
  | {
      readonly outcome: 'approved';
      readonly approvedBy: readonly Decision[];
      readonly approvals: number;
      readonly needed: number;
    }
  | { readonly outcome: 'waiting'; readonly approvals: number; readonly needed: number };

/** One rejection vetoes; otherwise `quorum` approvals complete the request. */
export function tally(request: ApprovalRequest, decisions: readonly Decision[]): Tally {
  const approvedBy = decisions.filter((d) => d.decision === 'approve');
  const counts = { approvals: approvedBy.length, needed: request.quorum };
  const rejection = decisions.find((d) => d.decision === 'reject');
  if (rejection) return { outcome: 'rejected', by: rejection, ...counts };
  if (approvedBy.length >= request.quorum) return { outcome: 'approved', approvedBy, ...counts };
  return { outcome: 'waiting', ...counts };
}

/** The note kept on a completed request and shown on its pages. */
export function outcomeNote(result: Exclude<Tally, { outcome: 'waiting' }>): string {
  if (result.outcome === 'approved') {
    return `approved by ${result.approvedBy.map((d) => d.approver).join(', ')}`;
  }
  return `rejected by ${result.by.approver}: ${result.by.comment}`;
}
