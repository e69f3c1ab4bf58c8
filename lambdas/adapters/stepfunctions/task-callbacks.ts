import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { TaskSignal } from '../../domain/approval/types.js';

/**
 * The two Step Functions calls that complete a waiting task. An `SFNClient` satisfies it; tests
 * inject a fake that records the calls.
 */
export interface TaskCallbacks {
  send(command: SendTaskSuccessCommand | SendTaskFailureCommand): Promise<unknown>;
}

/**
 * Step Functions' answers that mean the task no longer waits for this token, and never will
 * again: it timed out or its execution ended (TaskTimedOut), it is not waiting (TaskDoesNotExist),
 * or the token is not one it issued (InvalidToken).
 */
export const TASK_GONE_ERRORS = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'] as const;

/** The name of a "the wait is over" refusal, or undefined for any other failure (worth retrying). */
export function taskGoneError(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && (TASK_GONE_ERRORS as readonly string[]).includes(name)
    ? name
    : undefined;
}

export function sendSignal(sfn: TaskCallbacks, taskToken: string, signal: TaskSignal): Promise<unknown> {
  return sfn.send(
    signal.kind === 'success'
      ? new SendTaskSuccessCommand({ taskToken, output: signal.output })
      : new SendTaskFailureCommand({ taskToken, error: signal.error, cause: signal.cause }),
  );
}
