import { ApprovalExpired, ConflictError, ForbiddenError, ValidationError } from '../errors.js';
import type { ApprovalRequest, Decision } from './types.js';

/**
 * Whether `approver` may decide on `request` now: an approver of the environment, not the
 * person who asked (separation of duties), not already decided, and the request still open.
 * Throws the error whose status the HTTP layer answers with.
 */
export function checkMayDecide(
  request: ApprovalRequest,
  decisions: readonly Decision[],
  approver: string,
  decision: 'approve' | 'reject',
  comment: string,
  now: Date,
): void {
  const who = approver.toLowerCase();
  if (!request.approvers.some((a) => a.toLowerCase() === who)) {
    throw new ForbiddenError(
      `${approver} is not an approver of ${request.stage} (approvers: ${request.approvers.join(', ')})`,
    );
  }
  if (request.requestedBy.toLowerCase() === who) {
    throw new ForbiddenError(`${approver} asked for this promotion and so may not approve or reject it`);
  }
  if (request.status !== 'pending') {
    if (request.status === 'expired')
      throw new ApprovalExpired(`request ${request.requestId} expired at ${request.expiresAt}`);
    throw new ConflictError(`request ${request.requestId} is already ${request.status}`);
  }
  if (now.toISOString() >= request.expiresAt) {
    throw new ApprovalExpired(`request ${request.requestId} expired at ${request.expiresAt}`);
  }
  const earlier = decisions.find((d) => d.approver.toLowerCase() === who);
  if (earlier) {
    throw new ConflictError(`${approver} already decided (${earlier.decision}) at ${earlier.decidedAt}`);
  }
  if (decision === 'reject' && !comment.trim()) {
    throw new ValidationError('a rejection needs a comment saying why, so the requestor knows what to fix');
  }
}

export type Tally =
  | { outcome: 'rejected'; by: Decision }
  | { outcome: 'approved'; approvals: Decision[] }
  | { outcome: 'waiting'; approvals: number; needed: number };

/** One rejection vetoes; otherwise quorum approvals complete the request. */
export function tally(request: ApprovalRequest, decisions: readonly Decision[]): Tally {
  const rejection = decisions.find((d) => d.decision === 'reject');
  if (rejection) return { outcome: 'rejected', by: rejection };
  const approvals = decisions.filter((d) => d.decision === 'approve');
  if (approvals.length >= request.quorum) return { outcome: 'approved', approvals };
  return { outcome: 'waiting', approvals: approvals.length, needed: request.quorum };
}
