import type { GateOutcome, Metrics } from '../../contracts/pipeline.js';

export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'expired';
export type FinalStatus = Exclude<RequestStatus, 'pending'>;
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
  readonly serving: ServingSnapshot | null;
  readonly completedAt?: string;
  /** One line on how it ended ("approved by …", "rejected by …: …", "expired: …"). */
  readonly outcomeNote?: string;
}

export interface Decision {
  readonly requestId: string;
  readonly approver: string;
  readonly decision: DecisionKind;
  readonly comment: string;
  readonly decidedAt: string;
  readonly via: DecisionChannel;
}
