import type { ApprovalStore } from '../../adapters/approval/approval-store.js';
import type { ExecutionDescription, Executions } from '../../adapters/stepfunctions/executions.js';
import type { TaskCallbacks } from '../../adapters/stepfunctions/task-callbacks.js';
import { EXECUTION_ENDED_STATUSES, type ExecutionEndedStatus } from '../../contracts/execution-events.js';
import { closingNote, SIGNAL_LEASE_SECONDS } from '../../domain/approval/signal.js';
import { deliverSignal } from './deliver.js';

export interface ReconcileDeps {
  readonly store: ApprovalStore;
  readonly sfn: TaskCallbacks;
  readonly executions: Pick<Executions, 'describe'>;
  /** The execution-ended use case (closes its requests, fails its run, alerts once). */
  readonly executionEnded: (ended: {
    executionArn: string;
    status: ExecutionEndedStatus;
    error?: string;
    cause?: string;
    input?: string;
  }) => Promise<unknown>;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ReconcileResult {
  /** Callbacks delivered now (or found delivered: the execution went on and succeeded). */
  readonly delivered: string[];
  /** Callbacks still owed: Step Functions could not be reached; the next run tries again. */
  readonly pending: string[];
  /** Requests closed because their execution had ended or no longer exists. */
  readonly closed: string[];
  /** Executions found ended that the execution-ended path had not settled. */
  readonly endedExecutions: string[];
}

const isEnded = (status: string): status is ExecutionEndedStatus =>
  (EXECUTION_ENDED_STATUSES as readonly string[]).includes(status);

/**
 * The safety net under approvals (run on a schedule; the execution-ended event is the fast
 * path): a request's state and its execution's never disagree for long.
 * - A decided request whose callback is still owed (and not held by the caller delivering it)
 *   is delivered while its execution runs; settled as delivered if the execution succeeded;
 *   closed if it ended (nothing deploys) or no longer exists.
 * - An undecided request whose execution ended is closed, through the execution-ended use case
 *   (so its run is failed and the failure alerted as well); if the execution no longer exists,
 *   it is closed directly.
 */
export async function reconcileApprovals(deps: ReconcileDeps): Promise<ReconcileResult> {
  const result: ReconcileResult = { delivered: [], pending: [], closed: [], endedExecutions: [] };
  const described = new Map<string, Promise<ExecutionDescription | undefined>>();
  const describe = (arn: string) => {
    let found = described.get(arn);
    if (!found) {
      found = deps.executions.describe(arn);
      described.set(arn, found);
    }
    return found;
  };
  const settled = new Set<string>();
  const ended = async (execution: ExecutionDescription & { status: ExecutionEndedStatus }) => {
    if (settled.has(execution.executionArn)) return;
    settled.add(execution.executionArn);
    await deps.executionEnded({
      executionArn: execution.executionArn,
      status: execution.status,
      ...(execution.error ? { error: execution.error } : {}),
      ...(execution.cause ? { cause: execution.cause } : {}),
      ...(execution.input ? { input: execution.input } : {}),
    });
    result.endedExecutions.push(execution.executionArn);
  };

  for (const request of await deps.store.signals.listOwed()) {
    if (!(await deps.store.signals.claim(request.requestId, SIGNAL_LEASE_SECONDS))) continue;
    const execution = await describe(request.executionArn);
    if (!execution) {
      if (await deps.store.signals.undeliverable(request, closingNote(request, { kind: 'missing' }))) {
        result.closed.push(request.requestId);
      }
    } else if (execution.status === 'SUCCEEDED') {
      // It went on past Approve and deployed: our callback got there, its confirmation did not.
      if (await deps.store.signals.delivered(request.requestId)) result.delivered.push(request.requestId);
    } else if (isEnded(execution.status)) {
      await ended({ ...execution, status: execution.status });
      result.closed.push(request.requestId);
    } else {
      const out = await deliverSignal(deps, request, { attempts: 1, refusalEndsWait: false });
      (out.delivery === 'delivered' ? result.delivered : result.pending).push(request.requestId);
    }
  }

  for (const request of await deps.store.listPending()) {
    const execution = await describe(request.executionArn);
    if (!execution || execution.status === 'SUCCEEDED') {
      // Nothing waits for it any more (an execution that no longer exists, or one that went on
      // without it): close it directly.
      const note = closingNote(
        request,
        execution ? { kind: 'ended', status: execution.status } : { kind: 'missing' },
      );
      if (await deps.store.close(request.requestId, note)) result.closed.push(request.requestId);
    } else if (isEnded(execution.status)) {
      await ended({ ...execution, status: execution.status });
      result.closed.push(request.requestId);
    }
  }
  return result;
}
