import { parentPort, workerData } from 'node:worker_threads';
import { type ProfileOptions, Profiler } from '../../domain/profile/profiler.js';

/** What a profiling worker starts with (workerData). */
export interface ProfileWorkerInit {
  readonly options: ProfileOptions;
  /** CSV column names as in the header row (the blocks have no header). */
  readonly header: readonly string[] | undefined;
}

export type ToWorker =
  | { type: 'block'; index: number; bytes: ArrayBuffer; length: number }
  | { type: 'finish' };
export type FromWorker =
  | { type: 'done'; index: number; bytes: ArrayBuffer }
  | { type: 'state'; state: ReturnType<Profiler['state']> }
  | { type: 'error'; message: string };

/**
 * The body of a profiling worker thread: profiles the blocks of whole rows it is sent with the
 * domain Profiler and answers `finish` with its state, which the parent merges with the
 * others'. lambdas/handlers/profile-worker.ts is the entry the stack bundles next to the
 * baseline and drift handlers.
 */
export function runProfileWorker(): void {
  const port = parentPort;
  if (!port) throw new Error('runProfileWorker must run in a worker thread');
  const init = workerData as ProfileWorkerInit;
  const profiler = new Profiler({ ...init.options, pinAfterRows: Number.POSITIVE_INFINITY }, init.header);
  port.on('message', (msg: ToWorker) => {
    try {
      if (msg.type === 'block') {
        profiler.pushBlock(Buffer.from(msg.bytes, 0, msg.length), msg.index);
        // the buffer goes back to the parent's pool: memory stays bounded, whatever the GC does
        port.postMessage({ type: 'done', index: msg.index, bytes: msg.bytes } satisfies FromWorker, [
          msg.bytes,
        ]);
      } else {
        port.postMessage({ type: 'state', state: profiler.state() } satisfies FromWorker);
      }
    } catch (err) {
      port.postMessage({ type: 'error', message: (err as Error).message } satisfies FromWorker);
    }
  });
}
