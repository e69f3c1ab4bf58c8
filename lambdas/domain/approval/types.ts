import type { GateOutcome, Metrics } from '../../contracts/pipeline.js';

/**
 * `closed`: the execution that asked ended (stopped, failed, timed out, the local runtime went
 * away) before a decision could take effect, so nothing deploys whatever was decided.
 */
export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'closed';
export type FinalStatus = Exclude<RequestStatus, 'pending'>;

/** The callback a decided request owes its waiting execution, stored with the decision that completed it. */
export type TaskSignal =
  | { readonly kind: 'success'; readonly output: string }
  | { readonly kind: 'failure'; readonly error: string; readonly cause: string };

/**
 * `pending`: owed, not yet confirmed by Step Functions (delivered with retries, then by the
 * reconciler); `delivered`: Step Functions took it; `undeliverable`: the execution no longer
 * waits for it (it ended), so it never will.
 */
export type SignalStatus = 'pending' | 'delivered' | 'undeliverable';
export type DecisionKind = 'approve' | 'reject';
/** Where a decision came from: an emailed link (HTTP) or `mlcycle models approve|reject`. */
export type DecisionChannel = 'link' | 'cli';

/** The version serving the target stage when approval was requested (from its client manifest). */
export interface ServingSnapshot {
  readonly version: string;
  readonly metrics: Partial<Metrics>;
  readonly promotedAt: string;
  readonly promotedBy: string;
}

/** A promotion waiting for approvals. The task token is stored here and nowhere else. */
export interface ApprovalRequest {
  readonly requestId: string;
  readonly model: string;
  readonly version: string;
  readonly stage: string;
  readonly runId: string;
  readonly requestedBy: string;
  readonly reason: string;
  /** Lower-cased, in config order; a link names its approver by position in this list. */
  readonly approvers: readonly string[];
  readonly quorum: number;
  readonly status: RequestStatus;
  readonly createdAt: string;
  /** ISO time after which links stop working (the Approve state's timeout ends the wait then). */
  readonly expiresAt: string;
  /** 0 means no reminder. */
  readonly reminderSecondsBeforeExpiry: number;
  readonly remindedAt?: string;
  readonly taskToken: string;
  readonly executionArn: string;
  /** Snapshots taken at request time, so the page shows the evidence the approvers were asked on. */
  readonly gate: GateOutcome;
  readonly metrics: Partial<Metrics>;
  readonly modelCardUri?: string;
  /** Set when the approval starts a rollout at this share instead of a promotion. */
  readonly rollout?: { readonly percent: number };
  readonly serving: ServingSnapshot | null;
  readonly completedAt?: string;
  /** One line on how it ended ("approved by …", "rejected by …: …", "expired: …"). */
  readonly outcomeNote?: string;
  /**
   * Decisions recorded so far. Every decision is written on the condition that it is unchanged
   * since the decider read them, so the tally that completes a request counts exactly what is
   * stored (absent on requests created before it existed: read as "no condition yet").
   */
  readonly decisionCount?: number;
  /** Set, with `signalStatus`, by the decision that completed the request. */
  readonly signal?: TaskSignal;
  readonly signalStatus?: SignalStatus;
  readonly signalAttempts?: number;
  readonly signalLastError?: string;
  /** The deliverer holds the signal until then; the reconciler takes it over afterwards. */
  readonly signalLeaseUntil?: string;
  readonly signalSettledAt?: string;
  /** On a closed request that had been decided: what was decided (it took no effect). */
  readonly decided?: 'approved' | 'rejected';
}

export interface Decision {
  readonly requestId: string;
  readonly approver: string;
  readonly decision: DecisionKind;
  readonly comment: string;
  readonly decidedAt: string;
  readonly via: DecisionChannel;
}

/** What an approval request asks for, in words: a promotion, or a canary rollout at a share. */
export function askedChange(
  request: Pick<ApprovalRequest, 'model' | 'version' | 'stage' | 'rollout'>,
): string {
  return request.rollout
    ? `start a canary rollout of ${request.model} ${request.version} on ${request.stage} at ${request.rollout.percent} %`
    : `promote ${request.model} ${request.version} to ${request.stage}`;
}
