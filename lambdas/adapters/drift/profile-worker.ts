import { parentPort } from 'node:worker_threads';
import { ERROR_NAMES } from '../../contracts/errors.js';
import type { ProfileOptions } from '../../domain/profile/profile-options.js';
import { Profiler } from '../../domain/profile/profiler.js';
import type { ProfilerState } from '../../domain/profile/profiler-state.js';
import { type PartResult, type PartTask, profilePart } from './profile-part.js';

/** What a profile asks of a worker: the same for every part and block of one file. */
export interface ProfileWorkerInit {
  /** Kinds settled: every part and block profiles every column the same way. */
  readonly options: ProfileOptions;
  /** CSV column names as in the header row (blocks and parts have no header). */
  readonly header: readonly string[] | undefined;
}

export type ToWorker =
  | { type: 'begin'; init: ProfileWorkerInit }
  | { type: 'block'; index: number; bytes: ArrayBuffer; length: number }
  | { type: 'finish' }
  | { type: 'part'; task: PartTask; init: ProfileWorkerInit };
export type FromWorker =
  | { type: 'done'; index: number; bytes: ArrayBuffer }
  | { type: 'part'; result: PartResult }
  | { type: 'state'; state: ProfilerState }
  | { type: 'error'; name: string; message: string };

/**
 * The body of a profiling worker thread, which serves one profile after another (a pool keeps
 * it, and the code it has compiled, warm between them). Two ways to be fed: `begin`, blocks of
 * whole rows sent by the parent (a stream that cannot be split, e.g. gzip) and `finish` for
 * their state; or parts of a file by byte range, which the worker reads itself (from disk or
 * with its own S3 ranged GETs) and answers one by one. lambdas/handlers/profile-worker.ts is
 * the entry the stack bundles next to the baseline and drift handlers.
 */
export function runProfileWorker(): void {
  const port = parentPort;
  if (!port) throw new Error('runProfileWorker must run in a worker thread');
  let blocks: Profiler | undefined;
  const fail = (err: unknown) => {
    const e = err as Error;
    const name = e.name === ERROR_NAMES.dataError ? e.name : 'Error';
    port.postMessage({ type: 'error', name, message: e.message } satisfies FromWorker);
  };
  const blockProfiler = (init: ProfileWorkerInit) =>
    new Profiler({ ...init.options, pinAfterRows: Number.POSITIVE_INFINITY }, init.header);
  port.on('message', (msg: ToWorker) => {
    try {
      if (msg.type === 'begin') blocks = blockProfiler(msg.init);
      else if (msg.type === 'block') {
        if (!blocks) throw new Error('a block arrived before begin');
        blocks.pushBlock(Buffer.from(msg.bytes, 0, msg.length), msg.index);
        // the buffer goes back to the parent's pool: memory stays bounded, whatever the GC does
        port.postMessage({ type: 'done', index: msg.index, bytes: msg.bytes } satisfies FromWorker, [
          msg.bytes,
        ]);
      } else if (msg.type === 'finish') {
        if (!blocks) throw new Error('finish arrived before begin');
        const state = blocks.state();
        blocks = undefined;
        port.postMessage({ type: 'state', state } satisfies FromWorker);
      } else {
        profilePart(msg.task, msg.init.options, msg.init.header).then(
          (result) => port.postMessage({ type: 'part', result } satisfies FromWorker),
          fail,
        );
      }
    } catch (err) {
      fail(err);
    }
  });
}
