import {
  type BatchContainerDetail,
  type BatchJobDetail,
  EARLY_STOP_REASON_PREFIX,
  TRIAL_JOB_PARAMETER,
} from '../../contracts/batch-jobs.js';
import { cloudWatchLogStreamUrl } from '../../contracts/stager.js';

/** The stager's containers: when one of them failed, it says why in its own reason. */
const STAGER_CONTAINERS = new Set(['stage-in', 'stage-out', 'checkpoint-sync']);

/**
 * A sweep trial's Train job that the early-stopping watcher terminated: the job is a trial's (its
 * parameter, set by the ASL) and its status reason is the watcher's. Its task ends `STOPPED`;
 * CheckTrial then holds it to the run record, which the watcher wrote first.
 */
export function stoppedEarly(detail: BatchJobDetail): boolean {
  return (
    detail.status === 'FAILED' &&
    detail.parameters?.[TRIAL_JOB_PARAMETER] === 'true' &&
    (detail.statusReason ?? '').startsWith(EARLY_STOP_REASON_PREFIX)
  );
}

/** The containers of a finished job, single- or multi-container. */
function containersOf(detail: BatchJobDetail): BatchContainerDetail[] {
  const multi = detail.ecsProperties?.taskProperties.flatMap((t) => t.containers ?? []) ?? [];
  return multi.length ? multi : detail.container ? [detail.container] : [];
}

const failed = (c: BatchContainerDetail) =>
  (typeof c.exitCode === 'number' && c.exitCode !== 0) || Boolean(c.reason);

/**
 * The container a failed job is known by: the user's (trainer or predictor) when it failed, else
 * the first stager container that did, else the first container.
 */
export function failedContainer(detail: BatchJobDetail): BatchContainerDetail | undefined {
  const all = containersOf(detail);
  return all.find((c) => failed(c) && !STAGER_CONTAINERS.has(c.name ?? '')) ?? all.find(failed) ?? all[0];
}

/** The container whose logs a job is known by: the user's (trainer or predictor). */
export function userContainer(detail: BatchJobDetail): BatchContainerDetail | undefined {
  const all = containersOf(detail);
  return all.find((c) => !STAGER_CONTAINERS.has(c.name ?? '')) ?? all[0];
}

/**
 * Where a container's output can be read: the CloudWatch console link of its log stream when the
 * job logged to CloudWatch Logs (AWS), else the stream name as given (the local runner's log file).
 */
export function containerLogs(
  region: string | undefined,
  c: BatchContainerDetail | undefined,
): string | undefined {
  if (!c?.logStreamName) return undefined;
  const group = (c.logConfiguration as { options?: Record<string, string> } | undefined)?.options?.[
    'awslogs-group'
  ];
  return region && group ? cloudWatchLogStreamUrl(region, group, c.logStreamName) : c.logStreamName;
}

/**
 * The cause a failed job's task fails with: the job, Batch's status reason and the failed
 * container's exit code and reason (the shape RecordFailure reads, as `.sync` gave it), and the
 * link to its logs.
 */
export function jobFailureCause(detail: BatchJobDetail, region?: string) {
  const c = failedContainer(detail);
  const logs = containerLogs(region, c);
  return {
    JobId: detail.jobId,
    JobName: detail.jobName,
    Status: detail.status,
    StatusReason: detail.statusReason ?? '',
    Container: {
      Name: c?.name ?? '',
      ExitCode: c?.exitCode ?? null,
      Reason: c?.reason ?? '',
      LogStreamName: c?.logStreamName ?? '',
    },
    ...(logs ? { Logs: logs } : {}),
  };
}
