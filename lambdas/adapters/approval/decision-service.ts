import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { ERROR_NAMES } from '../../contracts/errors.js';
import type { ApprovalOutcome } from '../../contracts/pipeline.js';
import { checkMayDecide, tally } from '../../domain/approval/policy.js';
import type { ApprovalRequest, Decision } from '../../domain/approval/types.js';
import type { ApprovalStore } from './approval-store.js';

export interface DecisionResult {
  readonly requestId: string;
  readonly approver: string;
  readonly decision: 'approve' | 'reject';
  /** What the request is now: still waiting, approved (quorum), or rejected. */
  readonly outcome: 'waiting' | 'approved' | 'rejected';
  readonly approvals: number;
  readonly needed: number;
  /** True for the one caller that signalled Step Functions. */
  readonly completedByThisDecision: boolean;
}

/**
 * Records a decision — from an emailed link or the CLI, one code path — and completes the
 * request when it is decisive: SendTaskSuccess exactly once at quorum, SendTaskFailure
 * (ApprovalRejected, which the ASL catches) on a rejection.
 */
export async function recordDecision(
  deps: { store: ApprovalStore; sfn: SFNClient; clock?: () => Date },
  input: {
    requestId: string;
    approver: string;
    decision: 'approve' | 'reject';
    comment: string;
    via: 'link' | 'cli';
  },
): Promise<DecisionResult> {
  const now = (deps.clock ?? (() => new Date()))();
  const request = await deps.store.require(input.requestId);
  checkMayDecide(
    request,
    await deps.store.decisions(input.requestId),
    input.approver,
    input.decision,
    input.comment,
    now,
  );
  const decision: Decision = {
    requestId: input.requestId,
    approver: input.approver.toLowerCase(),
    decision: input.decision,
    comment: input.comment.trim(),
    decidedAt: now.toISOString(),
    via: input.via,
  };
  await deps.store.putDecision(decision);
  const decisions = await deps.store.decisions(input.requestId);
  const result = tally(request, decisions);
  const approvals = decisions.filter((d) => d.decision === 'approve').length;
  const base = {
    requestId: input.requestId,
    approver: decision.approver,
    decision: input.decision,
    approvals,
    needed: request.quorum,
  };
  if (result.outcome === 'waiting') return { ...base, outcome: 'waiting', completedByThisDecision: false };

  const status = result.outcome === 'approved' ? 'approved' : 'rejected';
  const note =
    result.outcome === 'approved'
      ? `approved by ${result.approvals.map((d) => d.approver).join(', ')}`
      : `rejected by ${result.by.approver}: ${result.by.comment}`;
  const won = await deps.store.complete(input.requestId, status, note);
  if (won) await signal(deps.sfn, request, result, now);
  return { ...base, outcome: status, completedByThisDecision: won };
}

async function signal(sfn: SFNClient, request: ApprovalRequest, result: ReturnType<typeof tally>, now: Date) {
  if (result.outcome === 'approved') {
    const output: ApprovalOutcome = {
      requestId: request.requestId,
      approvedBy: result.approvals.map((d) => ({
        approver: d.approver,
        comment: d.comment,
        decidedAt: d.decidedAt,
      })),
      completedAt: now.toISOString(),
    };
    await sfn.send(
      new SendTaskSuccessCommand({ taskToken: request.taskToken, output: JSON.stringify(output) }),
    );
  } else if (result.outcome === 'rejected') {
    await sfn.send(
      new SendTaskFailureCommand({
        taskToken: request.taskToken,
        error: ERROR_NAMES.approvalRejected,
        cause: `rejected by ${result.by.approver}: ${result.by.comment}`.slice(0, 32_000),
      }),
    );
  }
}
