import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { normalizeEmail } from '../approval/quorum.js';
import { ValidationError } from '../errors.js';
import type { RunRecord } from './types.js';

/**
 * Who may cancel a run, by the deployed config: the person who asked for it, and the people who
 * govern the stage it was to reach (its approvers, and its `rollbackBy` list when it has one).
 * A stage the config no longer defines leaves the requester alone.
 */
export function runCancellers(
  config: MlcycleConfig,
  run: Pick<RunRecord, 'requestedBy' | 'stage'>,
): string[] {
  const env = config.environments[run.stage];
  const people = [run.requestedBy, ...(env?.approvers ?? []), ...(env?.rollbackBy ?? [])];
  return [...new Set(people.map(normalizeEmail).filter((p) => p.includes('@')))];
}

export function mayCancelRun(
  config: MlcycleConfig,
  run: Pick<RunRecord, 'requestedBy' | 'stage'>,
  actor: string,
): boolean {
  return runCancellers(config, run).includes(normalizeEmail(actor));
}

/** The reason a cancellation (of a run or a sweep) is kept with: given, and short enough to show. */
export function cancellationReason(reason: string): string {
  const trimmed = reason.trim();
  if (!trimmed) throw new ValidationError('a cancellation needs a reason (--reason), kept on the run');
  if (trimmed.length > 500) {
    throw new ValidationError(`the reason is ${trimmed.length} characters; keep it under 500`);
  }
  return trimmed;
}

/** The error and cause a cancelled run's execution is stopped with (DescribeExecution shows them). */
export const RUN_CANCELLED_ERROR = 'mlcycle.RunCancelled';
export const cancelCause = (runId: string, by: string, reason: string) =>
  `run ${runId} ${cancelledBy({ by, reason })}`;

/** How a cancelled run ended, in one line: `cancelled by <who>: <why>`. */
export const cancelledBy = (cancelled: { readonly by: string; readonly reason: string }) =>
  `cancelled by ${cancelled.by}: ${cancelled.reason}`;
