import type { ApprovalStore, Completion } from '../../adapters/approval/approval-store.js';
import { RetryableConflict, withOptimisticRetry } from '../../adapters/dynamo-conditions.js';
import type { Registry } from '../../adapters/registry/registry.js';
import type { TaskCallbacks } from '../../adapters/stepfunctions/task-callbacks.js';
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
import { SIGNAL_LEASE_SECONDS, taskSignalFor } from '../../domain/approval/signal.js';
import type {
  ApprovalRequest,
  Decision,
  DecisionChannel,
  DecisionKind,
  FinalStatus,
} from '../../domain/approval/types.js';
import { ConflictError } from '../../domain/errors.js';
import { canTransition } from '../../domain/registry/status.js';
import { type Delivery, deliverSignal } from './deliver.js';

export type { TaskCallbacks } from '../../adapters/stepfunctions/task-callbacks.js';

export interface DecisionDeps {
  readonly store: ApprovalStore;
  readonly sfn: TaskCallbacks;
  /**
   * On a rejection: marks the version `rejected` (approver and comment in its history) and
   * records the refusal in the stage's promotion ledger.
   */
  readonly registry: Pick<Registry, 'versions' | 'stages'>;
  readonly clock?: () => Date;
  /** Waits between delivery attempts. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
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
  /**
   * What the request is now: still waiting, or how it ended — `closed` when the decision
   * completed it but its execution no longer waited, so nothing deploys.
   */
  readonly outcome: 'waiting' | FinalStatus;
  readonly approvals: number;
  readonly needed: number;
  /** True for the one caller whose decision completed the request. */
  readonly completedByThisDecision: boolean;
  /**
   * For the decision that completed the request: whether Step Functions took the callback, it
   * is still being delivered (retried by the reconciler), or the execution had already ended.
   */
  readonly delivery?: Delivery;
  /** One line on how the request ended (its outcome note), once it has. */
  readonly note?: string;
  /** On a rejection that completed the request: whether the version was marked `rejected`. */
  readonly versionRejected?: boolean;
  /** On a rejection that completed the request: whether the ledger has its `reject` entry. */
  readonly ledgerRecorded?: boolean;
}

/** Attempts at writing a decision that keeps meeting concurrent decisions on the same request. */
const WRITE_ATTEMPTS = 20;

/**
 * Records a decision — from an emailed link, the CLI or the IAM-authorised API, one code path.
 * The decision, the tally it completes and the completion are one conditional write on the
 * request (see ApprovalStore.recordDecision): exactly one decision completes a request, and any
 * decision arriving after it is refused with what was decided (409) and stores nothing.
 *
 * The completing decision stores the callback owed to Step Functions ("approved, signal
 * pending") with itself, then delivers it: SendTaskSuccess at quorum, SendTaskFailure
 * ApprovalRejected (which the ASL catches) on a rejection, after marking the version rejected.
 * A delivery that fails leaves the signal owed for the reconciler; a decision that was taken is
 * never answered with an error.
 */
export async function recordDecision(deps: DecisionDeps, input: DecisionInput): Promise<DecisionResult> {
  const now = (deps.clock ?? (() => new Date()))();
  const written = await withOptimisticRetry(
    `recording the decision of ${input.approver} on ${input.requestId}`,
    () => writeDecision(deps.store, input, now),
    { attempts: WRITE_ATTEMPTS },
  );
  const { request, decision, result } = written;
  const base = {
    requestId: input.requestId,
    approver: decision.approver,
    decision: input.decision,
    approvals: result.approvals,
    needed: result.needed,
  };
  if (result.outcome === 'waiting') {
    // Another decision may have completed the request since ours; say how it stands now.
    const current = await deps.store.get(input.requestId).catch(() => undefined);
    const outcome = current && current.status !== 'pending' ? current.status : 'waiting';
    return {
      ...base,
      outcome,
      completedByThisDecision: false,
      ...(outcome !== 'waiting' && current?.outcomeNote ? { note: current.outcomeNote } : {}),
    };
  }

  const completed: ApprovalRequest = {
    ...request,
    status: result.outcome,
    outcomeNote: written.completion.note,
    signal: written.completion.signal,
    signalStatus: 'pending',
  };
  let rejection: { versionRejected: boolean; ledgerRecorded: boolean } | undefined;
  if (result.outcome === 'rejected') {
    // Before the SendTaskFailure, so RecordFailure finds the version already rejected and
    // keeps the approver's reason. A failure here must not keep the pipeline waiting:
    // RecordFailure still marks the version (with the cause, which carries the comment).
    rejection = await recordRejection(deps, request, result);
  }
  // Two tries while the approver waits for the page; the reconciler takes over after that.
  const delivered = await deliverSignal(deps, completed, { attempts: 2 });
  return {
    ...base,
    outcome: delivered.request.status as FinalStatus,
    completedByThisDecision: true,
    delivery: delivered.delivery,
    ...(delivered.request.outcomeNote ? { note: delivered.request.outcomeNote } : {}),
    ...(rejection ?? {}),
  };
}

interface Written {
  readonly request: ApprovalRequest;
  readonly decision: Decision;
  readonly result: Tally;
  readonly completion: Completion;
}

/**
 * One attempt: read the request and its decisions, check who may decide, tally with this
 * decision, and write it (with the completion when decisive) on the condition that nothing
 * changed since the read. Asks for another round when something did; throws what the approver
 * should hear when the request is no longer open to them.
 */
async function writeDecision(store: ApprovalStore, input: DecisionInput, now: Date): Promise<Written> {
  const { request, decisions } = await store.snapshot(input.requestId);
  checkMayDecide(request, input.approver, now);
  checkDecisionContent(input.decision, input.comment);
  const earlier = decisionOf(decisions, input.approver);
  if (earlier) throw alreadyDecided(earlier);

  const decision: Decision = {
    requestId: input.requestId,
    approver: normalizeEmail(input.approver),
    decision: input.decision,
    comment: input.comment.trim(),
    decidedAt: now.toISOString(),
    via: input.via,
  };
  const result = tally(request, [...decisions, decision]);
  const completion: Completion | undefined =
    result.outcome === 'waiting'
      ? undefined
      : {
          status: result.outcome,
          note: outcomeNote(result),
          signal: taskSignalFor(request, result, now),
          leaseUntil: new Date(now.getTime() + SIGNAL_LEASE_SECONDS * 1000).toISOString(),
        };
  const write = await store.recordDecision(decision, decisions.length, completion);
  if (write === 'recorded') {
    return { request, decision, result, completion: completion as Completion };
  }
  if (write === 'already-decided') {
    // The same approver's other post (a double click) got there first.
    const mine = decisionOf(await store.decisions(input.requestId), input.approver);
    if (mine) throw alreadyDecided(mine);
    throw new ConflictError(`request ${input.requestId} changed while deciding; open the link again`);
  }
  // Another decision landed, or the request completed or closed: read it again. The next round
  // refuses with what was decided when it is no longer pending.
  throw new RetryableConflict(write);
}

async function recordRejection(
  deps: DecisionDeps,
  request: ApprovalRequest,
  result: Extract<Tally, { outcome: 'rejected' }>,
): Promise<{ versionRejected: boolean; ledgerRecorded: boolean }> {
  const versionRejected = await markRejected(deps.registry, request, result.by).catch(() => false);
  const decisions = await deps.store.decisions(request.requestId).catch(() => [result.by]);
  const ledgerRecorded = await deps.registry.stages
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
  return { versionRejected, ledgerRecorded };
}

async function markRejected(
  registry: DecisionDeps['registry'],
  request: ApprovalRequest,
  by: Decision,
): Promise<boolean> {
  const version = await registry.versions.getVersion(request.model, request.version);
  // A promotion of a version that already serves elsewhere is refused, not the version itself.
  if (!version || !canTransition(version.status, 'rejected')) return false;
  await registry.versions.transition(
    request.model,
    request.version,
    'rejected',
    `rejected for ${request.stage} by ${by.approver}: ${by.comment}`,
    by.approver,
  );
  return true;
}
