import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ERROR_NAMES } from '../../contracts/errors.js';
import { DataError } from '../../domain/errors.js';
import type { RowBlock } from '../../domain/profile/block-splitter.js';
import type { ProfilerState } from '../../domain/profile/profiler-state.js';
import type { PartResult, PartTask } from './profile-part.js';
import type { FromWorker, ProfileWorkerInit, ToWorker } from './profile-worker.js';

let builtWorker: URL | undefined;

/**
 * The worker script: bundled next to the handler in the Lambda asset; when running from source
 * (local runtime, tests, bench) the TypeScript entry is bundled once per process with esbuild
 * into a temporary .mjs, so the worker runs exactly like the Lambda's, without a TS loader in
 * every thread. Undefined when neither is available (then profiling stays in this thread).
 */
export function workerScript(): URL | undefined {
  const bundled = new URL('./profile-worker.mjs', import.meta.url);
  if (bundled.protocol === 'file:' && existsSync(fileURLToPath(bundled))) return bundled;
  if (builtWorker) return builtWorker;
  const source = new URL('../../handlers/profile-worker.ts', import.meta.url);
  if (source.protocol !== 'file:' || !existsSync(fileURLToPath(source))) return undefined;
  try {
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const dir = mkdtempSync(join(tmpdir(), 'mlcycle-profile-worker-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const outfile = join(dir, 'profile-worker.mjs');
    esbuild.buildSync({
      entryPoints: [fileURLToPath(source)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'silent',
      // as the stack bundles it (lib/functions.ts): ESM builds of dependencies, and a require
      mainFields: ['module', 'main'],
      banner: {
        js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
    });
    builtWorker = pathToFileURL(outfile);
    return builtWorker;
  } catch {
    return undefined;
  }
}

/** A worker's error as the parent rethrows it: data problems stay DataErrors. */
function errorFrom(name: string, message: string): Error {
  return name === ERROR_NAMES.dataError
    ? new DataError(message)
    : new Error(`profiling worker failed: ${message}`);
}

/**
 * One profiling worker thread, seen from the parent: blocks with a bounded number in flight,
 * parts one at a time, and the blocks' state. A worker serves one profile at a time (between
 * acquireWorkers and releaseWorkers) and many over its life.
 */
export class ProfileWorker {
  private pendingBlocks = new Set<number>();
  private waiters: (() => void)[] = [];
  private part: { resolve: (r: PartResult) => void; reject: (e: Error) => void } | undefined;
  private stateRequest: { resolve: (s: ProfilerState) => void; reject: (e: Error) => void } | undefined;
  private onFailure: (err: Error) => void = () => undefined;
  private release: (bytes: ArrayBuffer) => void = () => undefined;
  failure: Error | undefined;
  private readonly worker: Worker;

  constructor(script: URL) {
    // A small young generation keeps each isolate's garbage (field strings) from growing RSS.
    this.worker = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    this.worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'done') {
        this.release(msg.bytes);
        this.pendingBlocks.delete(msg.index);
        this.waiters.shift()?.();
      } else if (msg.type === 'part') {
        const part = this.part;
        this.part = undefined;
        part?.resolve(msg.result);
      } else if (msg.type === 'state') {
        const request = this.stateRequest;
        this.stateRequest = undefined;
        request?.resolve(msg.state);
      } else this.fail(errorFrom(msg.name, msg.message));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`profiling worker exited with code ${code}`)));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiters) w();
    this.part?.reject(err);
    this.stateRequest?.reject(err);
    this.onFailure(err);
  }

  /** Taken for one profile: told of a failure; gives back block buffers to `release`. */
  acquire(onFailure: (err: Error) => void, release: (bytes: ArrayBuffer) => void): void {
    this.onFailure = onFailure;
    this.release = release;
    this.worker.ref();
  }

  /** Idle in the pool: it does not keep the process alive. */
  idle(): void {
    this.onFailure = () => undefined;
    this.release = () => undefined;
    this.worker.unref();
  }

  /** Starts a profile fed in blocks. */
  begin(init: ProfileWorkerInit): void {
    this.worker.postMessage({ type: 'begin', init } satisfies ToWorker);
  }

  /** Sends a block of whole rows, waiting while `maxInFlight` are still being profiled. */
  async sendBlock(block: RowBlock, maxInFlight: number): Promise<void> {
    while (this.pendingBlocks.size >= maxInFlight && !this.failure) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) throw this.failure;
    this.pendingBlocks.add(block.index);
    const ab = block.bytes.buffer as ArrayBuffer;
    this.worker.postMessage(
      { type: 'block', index: block.index, bytes: ab, length: block.bytes.length } satisfies ToWorker,
      [ab],
    );
  }

  /** Profiles one part of a file (the worker reads it); one at a time per worker. */
  runPart(task: PartTask, init: ProfileWorkerInit): Promise<PartResult> {
    return new Promise((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      this.part = { resolve, reject };
      this.worker.postMessage({ type: 'part', task, init } satisfies ToWorker);
    });
  }

  /** The state of the blocks since begin. */
  state(): Promise<ProfilerState> {
    return new Promise((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      this.stateRequest = { resolve, reject };
      this.worker.postMessage({ type: 'finish' } satisfies ToWorker);
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Idle workers, kept between profiles: a warm container does not start and re-JIT them. */
const idleWorkers: ProfileWorker[] = [];

/** n workers for one profile: idle ones first, new ones for the rest. */
export function acquireWorkers(
  script: URL,
  n: number,
  onFailure: (err: Error) => void,
  release?: (bytes: ArrayBuffer) => void,
): ProfileWorker[] {
  const workers: ProfileWorker[] = [];
  while (workers.length < n) {
    let worker = idleWorkers.pop();
    while (worker?.failure) worker = idleWorkers.pop();
    worker ??= new ProfileWorker(script);
    worker.acquire(onFailure, release ?? (() => undefined));
    workers.push(worker);
  }
  return workers;
}

/**
 * Gives workers back after a profile: healthy ones wait idle (up to one per CPU), failed ones
 * and the rest are stopped. `broken`: the profile ended early, so work may still be under way
 * in them; they are stopped too.
 */
export async function releaseWorkers(workers: readonly ProfileWorker[], broken: boolean): Promise<void> {
  const stopping: Promise<void>[] = [];
  for (const worker of workers) {
    if (broken || worker.failure || idleWorkers.length >= availableParallelism()) {
      stopping.push(worker.terminate());
    } else {
      worker.idle();
      idleWorkers.push(worker);
    }
  }
  await Promise.all(stopping);
}
