import type { GateOutcome, Metrics } from '../../contracts/pipeline.js';

export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface ServingSnapshot {
  readonly version: string;
  readonly metrics: Partial<Metrics>;
  readonly promotedAt: string;
}

/** A promotion waiting for approvals. The task token is stored here and nowhere else. */
export interface ApprovalRequest {
  requestId: string;
  model: string;
  version: string;
  stage: string;
  runId: string;
  requestedBy: string;
  reason: string;
  approvers: string[];
  quorum: number;
  status: RequestStatus;
  createdAt: string;
  /** ISO time after which links stop working and the state machine's timeout ends the wait. */
  expiresAt: string;
  reminderSecondsBeforeExpiry: number;
  remindedAt?: string;
  taskToken: string;
  executionArn: string;
  gate: GateOutcome;
  metrics: Partial<Metrics>;
  serving: ServingSnapshot | null;
  completedAt?: string;
  outcomeNote?: string;
}

export interface Decision {
  requestId: string;
  approver: string;
  decision: 'approve' | 'reject';
  comment: string;
  decidedAt: string;
  via: 'link' | 'cli';
}
