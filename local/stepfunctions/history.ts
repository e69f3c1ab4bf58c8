import type { StateMachine } from 'aws-local-stepfunctions';

/** The library's event type (not exported by name): what its eventLogs generator yields. */
export type EventLog =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** A history event in the shape GetExecutionHistory returns (the subset the CLI and demo read). */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: number;
  readonly type: string;
  readonly [details: string]: unknown;
}

const stateTypeNames: Record<string, string> = {
  Task: 'Task',
  Choice: 'Choice',
  Pass: 'Pass',
  Wait: 'Wait',
  Succeed: 'Succeed',
  Fail: 'Fail',
  Parallel: 'Parallel',
  Map: 'Map',
};

const json = (v: unknown) => JSON.stringify(v ?? null);

/**
 * Maps aws-local-stepfunctions' event log onto Step Functions history event types, so the CLI's
 * `pipeline status` reads the same history from AWS and from the embedded default.
 */
export function toHistoryEvent(event: EventLog, id: number): HistoryEvent | undefined {
  const base = { id, previousEventId: id - 1, timestamp: event.timestamp };
  switch (event.type) {
    case 'ExecutionStarted':
      return {
        ...base,
        type: 'ExecutionStarted',
        executionStartedEventDetails: { input: json(event.input) },
      };
    case 'ExecutionSucceeded':
      return {
        ...base,
        type: 'ExecutionSucceeded',
        executionSucceededEventDetails: { output: json(event.output) },
      };
    case 'ExecutionFailed':
      return {
        ...base,
        type: 'ExecutionFailed',
        executionFailedEventDetails: { error: event.Error, cause: String(event.Cause ?? '') },
      };
    case 'ExecutionAborted':
      return { ...base, type: 'ExecutionAborted', executionAbortedEventDetails: {} };
    case 'ExecutionTimeout':
      return { ...base, type: 'ExecutionTimedOut', executionTimedOutEventDetails: {} };
    case 'StateEntered': {
      const t = stateTypeNames[event.state.type] ?? event.state.type;
      return {
        ...base,
        type: `${t}StateEntered`,
        stateEnteredEventDetails: { name: event.state.name, input: json(event.state.input) },
      };
    }
    case 'StateExited': {
      const t = stateTypeNames[event.state.type] ?? event.state.type;
      return {
        ...base,
        type: `${t}StateExited`,
        stateExitedEventDetails: { name: event.state.name, output: json(event.state.output) },
      };
    }
    case 'StateFailed':
      return {
        ...base,
        type: 'TaskFailed',
        taskFailedEventDetails: {
          resource: event.state.name,
          error: event.Error,
          cause: String(event.Cause ?? ''),
        },
      };
    case 'StateRetried':
      return {
        ...base,
        type: 'TaskStateRetried',
        stateEnteredEventDetails: { name: event.state.name, attempt: event.retry.attempt },
      };
    default:
      return undefined;
  }
}
