import {
  sendSignal,
  type TaskCallbacks,
  taskGoneError,
} from '../../adapters/stepfunctions/task-callbacks.js';
import {
  type BatchJobResult,
  type BatchJobStateChangeEvent,
  TASK_TOKEN_PARAMETER,
} from '../../contracts/batch-jobs.js';
import {
  containerLogs,
  jobFailureCause,
  stoppedEarly,
  userContainer,
} from '../../domain/pipeline/batch-job-outcome.js';

export interface BatchJobEndedDeps {
  readonly sfn: TaskCallbacks;
}

export type BatchJobEndedOutcome =
  | { readonly outcome: 'completed'; readonly status: string }
  /** A job no task waits for (submitted by hand, or not by the lifecycle): nothing to do. */
  | { readonly outcome: 'not-waited-for' }
  /** The task stopped waiting (timed out, execution stopped) or a duplicate event: nothing to do. */
  | { readonly outcome: 'task-gone'; readonly reason: string };

/**
 * A lifecycle Batch job ended: completes the task that waits for it (the token is the job's
 * `mlcycleTaskToken` parameter) with the job's id on success, or fails it with the failed
 * container's exit code, reason and logs link (`Batch.JobFailed`), which the ASL's Catch hands
 * to RecordFailure. A sweep trial's job terminated by its early stopping completes it `STOPPED`. EventBridge may deliver an event twice: the second completion finds the task
 * gone, which is not an error.
 */
export async function batchJobEnded(
  deps: BatchJobEndedDeps,
  event: BatchJobStateChangeEvent,
): Promise<BatchJobEndedOutcome> {
  const { detail } = event;
  const token = detail.parameters?.[TASK_TOKEN_PARAMETER];
  if (!token) return { outcome: 'not-waited-for' };
  const region = event.region ?? undefined;
  const stopped = stoppedEarly(detail);
  const succeeded = detail.status === 'SUCCEEDED' || stopped;
  const logs = containerLogs(region, userContainer(detail));
  const result: BatchJobResult = {
    jobId: detail.jobId,
    jobName: detail.jobName,
    status: stopped ? 'STOPPED' : 'SUCCEEDED',
    ...(logs ? { logs } : {}),
  };
  try {
    await sendSignal(
      deps.sfn,
      token,
      succeeded
        ? { kind: 'success', output: JSON.stringify(result) }
        : {
            kind: 'failure',
            error: 'Batch.JobFailed',
            cause: JSON.stringify(jobFailureCause(detail, region)),
          },
    );
  } catch (err) {
    const gone = taskGoneError(err);
    if (gone) return { outcome: 'task-gone', reason: gone };
    throw err;
  }
  return { outcome: 'completed', status: detail.status };
}
