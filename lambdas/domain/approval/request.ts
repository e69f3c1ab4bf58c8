import { createHash } from 'node:crypto';
import type { GateOutcome, Metrics } from '../../contracts/pipeline.js';
import { ValidationError } from '../errors.js';
import { checkQuorumReachable, normalizeEmail } from './quorum.js';
import type { ApprovalRequest, ServingSnapshot } from './types.js';

/** What the Approve state asks for (its Payload, minus transport details). */
export interface ApprovalAsk {
  readonly taskToken: string;
  readonly executionArn: string;
  readonly model: string;
  readonly stage: string;
  readonly version: string;
  readonly runId: string;
  readonly requestedBy: string;
  readonly reason: string;
  readonly approvers: readonly string[];
  readonly quorum: number;
  readonly timeoutSeconds: number;
  readonly reminderSecondsBeforeExpiry: number;
  readonly gate: GateOutcome;
  readonly metrics: Partial<Metrics>;
  /** s3:// URI of the candidate's model card, shown on the decision page. */
  readonly modelCardUri?: string;
  /** The approval is for a rollout start at this share (the execution's), not a promotion. */
  readonly rollout?: { readonly percent: number } | null;
}

/**
 * The request id is derived from the task token: a redelivered invocation of the same Approve
 * attempt finds its own request instead of creating a second one, while every new attempt (each
 * has a new token) gets a new id. It reveals nothing about the token.
 */
export function requestIdFor(taskToken: string): string {
  return `apr-${createHash('sha256').update(taskToken).digest('base64url').slice(0, 20)}`;
}

export { normalizeEmail };

/**
 * Builds the request the approvers will be asked on. Fails when the quorum cannot be reached
 * without the requestor (who may not approve their own promotion), rather than making everyone
 * wait for the timeout.
 */
export function buildApprovalRequest(
  ask: ApprovalAsk,
  serving: ServingSnapshot | null,
  now: Date,
): ApprovalRequest {
  const approvers = [...new Set(ask.approvers.map(normalizeEmail).filter(Boolean))];
  if (ask.quorum < 1) {
    throw new ValidationError(`quorum ${ask.quorum} for ${ask.stage} asks for no approval: it must be ≥ 1`);
  }
  checkQuorumReachable(ask.stage, approvers, ask.quorum, ask.requestedBy);
  return {
    requestId: requestIdFor(ask.taskToken),
    model: ask.model,
    version: ask.version,
    stage: ask.stage,
    runId: ask.runId,
    requestedBy: ask.requestedBy,
    reason: ask.reason,
    approvers,
    quorum: ask.quorum,
    status: 'pending',
    decisionCount: 0,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ask.timeoutSeconds * 1000).toISOString(),
    reminderSecondsBeforeExpiry: ask.reminderSecondsBeforeExpiry,
    taskToken: ask.taskToken,
    executionArn: ask.executionArn,
    gate: ask.gate,
    metrics: ask.metrics,
    ...(ask.modelCardUri ? { modelCardUri: ask.modelCardUri } : {}),
    ...(ask.rollout ? { rollout: { percent: ask.rollout.percent } } : {}),
    serving,
  };
}

/** Link expiry in epoch seconds (the token carries it). */
export const expiresAtSeconds = (request: ApprovalRequest) =>
  Math.floor(Date.parse(request.expiresAt) / 1000);

/**
 * `<base>approvals/<id>?t=<token>`, whether or not the base URL ends in `/`. Links must stay
 * under `MAX_LINK_LENGTH`: some mail clients wrap or truncate longer ones.
 */
export const MAX_LINK_LENGTH = 300;

export function approvalLink(baseUrl: string, requestId: string, token: string): string {
  const link = `${baseUrl.replace(/\/+$/, '')}/approvals/${encodeURIComponent(requestId)}?t=${token}`;
  if (link.length >= MAX_LINK_LENGTH) {
    throw new ValidationError(
      `approval links would be ${link.length} characters with base URL "${baseUrl}"; they must stay under ${MAX_LINK_LENGTH}`,
    );
  }
  return link;
}

/** Whether a reminder is due: inside the reminder window, not yet expired, none sent before. */
export function reminderDue(request: ApprovalRequest, now: Date): boolean {
  if (request.status !== 'pending' || request.remindedAt || request.reminderSecondsBeforeExpiry <= 0) {
    return false;
  }
  const expires = Date.parse(request.expiresAt);
  return now.getTime() >= expires - request.reminderSecondsBeforeExpiry * 1000 && now.getTime() < expires;
}
