import { setTimeout as sleep } from 'node:timers/promises';
import type { JobLogSource } from '../../adapters/pipeline/job-logs.js';

export interface FollowOptions {
  /** Keep reading until the job has ended and everything it wrote has been read. */
  readonly follow: boolean;
  readonly onLines: (lines: readonly string[]) => void;
  /** @default 2000 */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * `runs logs`: what a job wrote so far, and with `follow`, what it writes next until it ends (a
 * last read after the end, so nothing written just before it is lost).
 */
export async function readJobLogs(source: JobLogSource, options: FollowOptions): Promise<void> {
  let cursor: string | undefined;
  for (;;) {
    const out = await source.read(cursor);
    cursor = out.cursor;
    if (out.lines.length) options.onLines(out.lines);
    if (!options.follow || options.signal?.aborted) return;
    if (out.ended && out.lines.length === 0) return;
    await sleep(options.pollMs ?? 2000, undefined, options.signal ? { signal: options.signal } : {}).catch(
      () => undefined,
    );
  }
}
