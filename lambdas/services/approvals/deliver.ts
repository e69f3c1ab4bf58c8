import type { ApprovalStore } from '../../adapters/approval/approval-store.js';
import {
  sendSignal,
  type TaskCallbacks,
  taskGoneError,
} from '../../adapters/stepfunctions/task-callbacks.js';
import { closingNote } from '../../domain/approval/signal.js';
import type { ApprovalRequest } from '../../domain/approval/types.js';

/**
 * What became of a decided request's callback: Step Functions took it; it is still owed (Step
 * Functions could not be reached or answered an error; the reconciler delivers it later); or the
 * execution no longer waits for it, so the decision takes no effect.
 */
export type Delivery = 'delivered' | 'pending' | 'execution-ended';

export interface DeliveryDeps {
  readonly store: ApprovalStore;
  readonly sfn: TaskCallbacks;
  /** Waits between attempts. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface DeliveryOptions {
  /** Calls to make before leaving the signal to the reconciler. @default 3 */
  readonly attempts?: number;
  /**
   * What a refusal (TaskTimedOut, TaskDoesNotExist, InvalidToken) on the first call means. True
   * for the caller that just completed the request: nobody delivered it before, so the wait is
   * over. False for the reconciler, which first asks DescribeExecution and calls only while the
   * execution runs: a refusal then may follow an earlier delivery whose confirmation was lost,
   * and the execution's end will tell. @default true
   */
  readonly refusalEndsWait?: boolean;
}

const message = (err: unknown) =>
  `${(err as Error).name ?? 'Error'}: ${(err as Error).message ?? String(err)}`;

/**
 * Delivers the callback a decided request owes its execution, with retries, and records the
 * result on the request. A refusal after an earlier call failed without an answer is not taken
 * as the end of the wait (that call may have been delivered). Never throws for Step Functions'
 * sake: a decision that was taken is answered, and what is still owed stays in the table for
 * the reconciler.
 */
export async function deliverSignal(
  deps: DeliveryDeps,
  request: ApprovalRequest,
  options: DeliveryOptions = {},
): Promise<{ delivery: Delivery; request: ApprovalRequest }> {
  const signal = request.signal;
  if (!signal || request.signalStatus !== 'pending') {
    throw new Error(
      `request ${request.requestId} owes no callback (signal ${request.signalStatus ?? 'none'})`,
    );
  }
  const attempts = Math.max(1, options.attempts ?? 3);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let unanswered = false;
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await sendSignal(deps.sfn, request.taskToken, signal);
    } catch (err) {
      const gone = taskGoneError(err);
      if (gone && !unanswered && (options.refusalEndsWait ?? true)) {
        const note = closingNote(request, { kind: 'refused', error: gone });
        // If this bookkeeping fails the signal stays owed; the reconciler settles it.
        await deps.store.signals.undeliverable(request, note).catch(() => false);
        const closed = request.status === 'approved';
        return {
          delivery: 'execution-ended',
          request: {
            ...request,
            ...(closed ? { status: 'closed' as const, decided: 'approved' as const } : {}),
            signalStatus: 'undeliverable',
            outcomeNote: note,
          },
        };
      }
      lastError = message(err);
      if (!gone) unanswered = true;
      if (gone) break;
      if (attempt < attempts) await sleep(100 * 4 ** (attempt - 1));
      continue;
    }
    await deps.store.signals.delivered(request.requestId).catch(() => false);
    return { delivery: 'delivered', request: { ...request, signalStatus: 'delivered' } };
  }
  await deps.store.signals.failed(request.requestId, lastError).catch(() => false);
  return { delivery: 'pending', request: { ...request, signalLastError: lastError } };
}
