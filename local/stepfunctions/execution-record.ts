/** An execution as the local engine keeps it (one JSON file each), and the errors it answers with. */
import type { HistoryEvent } from './history.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  events: HistoryEvent[];
  /**
   * Whether `onExecutionEnded` has run for this execution since it ended. False until it has
   * (e.g. the process stopped first): the next start of the runtime runs it then.
   */
  endNotified?: boolean;
}

/** The errors the local runtime fails an execution with when it cannot keep running it. */
export const LOCAL_RUNTIME_ERRORS = {
  /** `mlcycle up` was stopped (Ctrl-C, SIGTERM) while the execution ran. */
  stopped: 'mlcycle.LocalRuntimeStopped',
  /** The process went away without stopping (killed, crashed); found on the next start. */
  restarted: 'mlcycle.LocalRuntimeRestarted',
} as const;

/** Errors in the shape of the Step Functions API (`__type` names the SDK maps to classes). */
export class SfnApiError extends Error {
  constructor(
    readonly code:
      | 'TaskDoesNotExist'
      | 'TaskTimedOut'
      | 'InvalidToken'
      | 'ExecutionDoesNotExist'
      | 'ExecutionAlreadyExists'
      | 'InvalidArn'
      | 'InvalidExecutionInput'
      | 'StateMachineDoesNotExist',
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** ` (at <state>)`: the state an execution was in, from its history (the last state entered). */
export function atState(record: ExecutionRecord): string {
  const entered = [...record.events].reverse().find((ev) => ev.type.endsWith('StateEntered')) as
    | { stateEnteredEventDetails?: { name?: string } }
    | undefined;
  const name = entered?.stateEnteredEventDetails?.name;
  return name ? ` (at ${name})` : '';
}

/** Ends a record as FAILED with the runtime's error, and the ExecutionFailed event saying why. */
export function failAsInterrupted(record: ExecutionRecord, error: string, cause: string): void {
  const now = Date.now();
  record.status = 'FAILED';
  record.stopDate = now;
  record.error = error;
  record.cause = cause;
  record.endNotified = false;
  const id = record.events.length + 1;
  record.events.push({
    id,
    previousEventId: id - 1,
    timestamp: now,
    type: 'ExecutionFailed',
    executionFailedEventDetails: { error, cause },
  });
}
