import { ConflictError } from '../domain/errors.js';

export function isConditionFailure(err: unknown): boolean {
  const name = (err as Error).name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

/** Reasons DynamoDB gives per transaction item ('ConditionalCheckFailed', 'None', ...). */
export function cancellationCodes(err: unknown): string[] {
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? 'None');
}

/**
 * Optimistic concurrency: re-read and retry an attempt that lost a conditional race, with
 * jittered exponential backoff, a bounded number of times; then a ConflictError naming what.
 */
export async function withOptimisticRetry<T>(
  what: string,
  attempt: () => Promise<T>,
  options: { attempts?: number; baseMs?: number } = {},
): Promise<T> {
  const attempts = options.attempts ?? 40;
  const base = options.baseMs ?? 10;
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof RetryableConflict) || i >= attempts) {
        if (err instanceof RetryableConflict) {
          throw new ConflictError(
            `${what}: still conflicting after ${attempts} attempts; try again`,
            undefined,
            {
              cause: err,
            },
          );
        }
        throw err;
      }
      const cap = Math.min(500, base * 2 ** Math.min(i, 6));
      await new Promise((r) => setTimeout(r, Math.random() * cap));
    }
  }
}

/** Thrown inside an attempt to ask withOptimisticRetry for another round. */
export class RetryableConflict extends Error {
  override readonly name = 'RetryableConflict';
}
