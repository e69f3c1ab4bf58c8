import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { ApprovalStore } from '../../adapters/approval/approval-store.js';
import type { RegistryStore } from '../../adapters/registry/registry-store.js';
import { ERROR_NAMES } from '../../contracts/errors.js';
import type { ApprovalOutcome } from '../../contracts/pipeline.js';
import {
  alreadyDecided,
  checkDecisionContent,
  checkMayDecide,
  decisionOf,
  outcomeNote,
  type Tally,
  tally,
} from '../../domain/approval/policy.js';
import { normalizeEmail } from '../../domain/approval/request.js';
import type {
  ApprovalRequest,
  Decision,
  DecisionChannel,
  DecisionKind,
  FinalStatus,
} from '../../domain/approval/types.js';
import { ConflictError } from '../../domain/errors.js';
import { canTransition } from '../../domain/registry/status.js';

/**
 * The two Step Functions calls the approval flow makes. An `SFNClient` satisfies it; tests
 * inject a fake that records the calls.
 */
export interface TaskCallbacks {
  send(command: SendTaskSuccessCommand | SendTaskFailureCommand): Promise<unknown>;
}

export interface DecisionDeps {
  readonly store: ApprovalStore;
  readonly sfn: TaskCallbacks;
  /**
   * On a rejection: marks the version `rejected` (approver and comment in its history) and
   * records the refusal in the stage's promotion ledger.
   */
  readonly registry: Pick<RegistryStore, 'getVersion' | 'transition' | 'recordRejection'>;
  readonly clock?: () => Date;
}

export interface DecisionInput {
  readonly requestId: string;
  readonly approver: string;
  readonly decision: DecisionKind;
  readonly comment: string;
  readonly via: DecisionChannel;
}

export interface DecisionResult {
  readonly requestId: string;
  readonly approver: string;
  readonly decision: DecisionKind;
  /** What the request is now: still waiting, or how it ended. */
  readonly outcome: 'waiting' | FinalStatus;
  readonly approvals: number;
  readonly needed: number;
  /** True for the one caller that completed the request and signalled Step Functions. */
  readonly completedByThisDecision: boolean;
  /** On a rejection that completed the request: whether the version was marked `rejected`. */
  readonly versionRejected?: boolean;
  /** On a rejection that completed the request: whether the ledger has its `reject` entry. */
  readonly ledgerRecorded?: boolean;
}

/**
 * Records a decision — from an emailed link or the CLI, one code path — and completes the
 * request when it is decisive: SendTaskSuccess exactly once at quorum, SendTaskFailure
 * (ApprovalRejected, which the ASL catches) on a rejection, after marking the version rejected
 * with the comment. Throws the domain error whose status the HTTP layer answers with.
 */
export async function recordDecision(deps: DecisionDeps, input: DecisionInput): Promise<DecisionResult> {
  const now = (deps.clock ?? (() => new Date()))();
  const request = await deps.store.require(input.requestId);
  checkMayDecide(request, input.approver, now);
  checkDecisionContent(input.decision, input.comment);
  const earlier = decisionOf(await deps.store.decisions(input.requestId), input.approver);
  if (earlier) throw alreadyDecided(earlier);

  const decision: Decision = {
    requestId: input.requestId,
    approver: normalizeEmail(input.approver),
    decision: input.decision,
    comment: input.comment.trim(),
    decidedAt: now.toISOString(),
    via: input.via,
  };
  const refused = await deps.store.putDecision(decision);
  if (refused) await explainRefusal(deps.store, input, now);

  const decisions = await deps.store.decisions(input.requestId);
  const result = tally(request, decisions);
  const base = {
    requestId: input.requestId,
    approver: decision.approver,
    decision: input.decision,
    approvals: result.approvals,
    needed: result.needed,
  };
  if (result.outcome === 'waiting') return { ...base, outcome: 'waiting', completedByThisDecision: false };

  const won = await deps.store.complete(input.requestId, result.outcome, outcomeNote(result));
  if (!won) {
    // Another decision completed the request between our write and our tally.
    const final = await deps.store.require(input.requestId);
    const outcome = final.status === 'pending' ? result.outcome : final.status;
    return { ...base, outcome, completedByThisDecision: false };
  }
  if (result.outcome === 'rejected') {
    // Before the SendTaskFailure, so RecordFailure finds the version already rejected and
    // keeps the approver's reason. A failure here must not keep the pipeline waiting:
    // RecordFailure still marks the version (with the cause, which carries the comment).
    const versionRejected = await markRejected(deps.registry, request, result.by).catch(() => false);
    const decisions = await deps.store.decisions(input.requestId);
    const ledgerRecorded = await deps.registry
      .recordRejection({
        model: request.model,
        stage: request.stage,
        version: request.version,
        requestId: request.requestId,
        actor: result.by.approver,
        reason: result.by.comment,
        evidence: {
          gate: request.gate,
          approvals: decisions.map((d) => ({
            approver: d.approver,
            decision: d.decision,
            comment: d.comment,
            at: d.decidedAt,
          })),
        },
      })
      // The audit entry must not keep the pipeline waiting; the decision items still hold it,
      // and the result says it is missing.
      .then(
        () => true,
        () => false,
      );
    await signal(deps.sfn, request, result, now);
    return { ...base, outcome: 'rejected', completedByThisDecision: true, versionRejected, ledgerRecorded };
  }
  await signal(deps.sfn, request, result, now);
  return { ...base, outcome: result.outcome, completedByThisDecision: true };
}

/** The decision was refused by the store: throw what the approver should hear. */
async function explainRefusal(store: ApprovalStore, input: DecisionInput, now: Date): Promise<never> {
  const [current, decisions] = await Promise.all([
    store.require(input.requestId),
    store.decisions(input.requestId),
  ]);
  const mine = decisionOf(decisions, input.approver);
  if (mine) throw alreadyDecided(mine);
  checkMayDecide(current, input.approver, now);
  throw new ConflictError(`request ${input.requestId} changed while deciding; open the link again`);
}

async function markRejected(
  registry: DecisionDeps['registry'],
  request: ApprovalRequest,
  by: Decision,
): Promise<boolean> {
  const version = await registry.getVersion(request.model, request.version);
  // A promotion of a version that already serves elsewhere is refused, not the version itself.
  if (!version || !canTransition(version.status, 'rejected')) return false;
  await registry.transition(
    request.model,
    request.version,
    'rejected',
    `rejected for ${request.stage} by ${by.approver}: ${by.comment}`,
    by.approver,
  );
  return true;
}

async function signal(
  sfn: TaskCallbacks,
  request: ApprovalRequest,
  result: Exclude<Tally, { outcome: 'waiting' }>,
  now: Date,
): Promise<void> {
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
    await sfn.send(
      new SendTaskSuccessCommand({ taskToken: request.taskToken, output: JSON.stringify(output) }),
    );
    return;
  }
  await sfn.send(
    new SendTaskFailureCommand({
      taskToken: request.taskToken,
      error: ERROR_NAMES.approvalRejected,
      // Step Functions caps the cause at 32,768 characters; comments are far shorter.
      cause: outcomeNote(result).slice(0, 32_000),
    }),
  );
}
