import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BlockSplitter, type RowBlock } from '../../domain/profile/block-splitter.js';
import { CsvScanner, fieldText } from '../../domain/profile/csv-scanner.js';
import type { Profile } from '../../domain/profile/profile.js';
import {
  DEFAULT_MAX_ROW_BYTES,
  finishProfile,
  mergeProfilerStates,
  type ProfileOptions,
  Profiler,
  type ProfilerState,
} from '../../domain/profile/profiler.js';
import type { FromWorker, ProfileWorkerInit, ToWorker } from './profile-worker.js';

export interface ParallelOptions {
  /** Worker threads; default os.availableParallelism() (a Lambda has up to 6 vCPUs). 0/1: in-thread. */
  readonly workers?: number;
  /** Bytes per block of rows sent to a worker. */
  readonly blockBytes?: number;
  /** Blocks in flight per worker before the reader waits (bounds memory). */
  readonly inFlight?: number;
}

const SNIFF_BYTES = 1 << 20;

type WorkerEntry = { script: URL };

let builtWorker: URL | undefined;

/**
 * The worker script: bundled next to the handler in the Lambda asset; when running from source
 * (local runtime, tests, bench) the TypeScript entry is bundled once per process with esbuild
 * into a temporary .mjs, so the worker runs exactly like the Lambda's, without a TS loader in
 * every thread.
 */
function workerEntry(): WorkerEntry | undefined {
  const bundled = new URL('./profile-worker.mjs', import.meta.url);
  if (bundled.protocol === 'file:' && existsSync(fileURLToPath(bundled))) return { script: bundled };
  if (builtWorker) return { script: builtWorker };
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
    });
    builtWorker = pathToFileURL(outfile);
    return { script: builtWorker };
  } catch {
    return undefined;
  }
}

export function defaultWorkers(): number {
  return availableParallelism();
}

/** The column names of a CSV header row (quotes, BOM handled as everywhere else). */
function headerNames(header: Buffer): string[] {
  let names: string[] = [];
  const scanner = new CsvScanner(
    {
      header: (columns) => {
        names = columns;
      },
      row: () => undefined,
      oversized: () => undefined,
      unterminated: () => undefined,
    },
    Number.POSITIVE_INFINITY,
  );
  scanner.push(header);
  scanner.end();
  return names.length ? names : [fieldText(header, 0, header.length, 0)];
}

/** Kinds from the first rows, so every worker profiles every column the same way. */
function sniffKinds(first: RowBlock, options: ProfileOptions, header: string[] | undefined) {
  let bytes = first.bytes.subarray(0, SNIFF_BYTES);
  if (bytes.length < first.bytes.length) bytes = bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1);
  const sniff = new Profiler({ ...options, pinAfterRows: Number.POSITIVE_INFINITY }, header);
  sniff.pushBlock(bytes, 0);
  return { ...sniff.kinds(), ...(options.kinds ?? {}) };
}

class WorkerSlot {
  private pending = new Map<number, () => void>();
  private waiters: (() => void)[] = [];
  private stateResolve: ((s: ProfilerState) => void) | undefined;
  failure: Error | undefined;
  readonly worker: Worker;

  constructor(
    entry: WorkerEntry,
    init: ProfileWorkerInit,
    onFailure: (err: Error) => void,
    private readonly release: (bytes: ArrayBuffer) => void,
  ) {
    // A small young generation keeps each isolate's garbage (field strings) from growing RSS.
    this.worker = new Worker(entry.script, {
      workerData: init,
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'done') {
        this.release(msg.bytes);
        this.pending.get(msg.index)?.();
        this.pending.delete(msg.index);
        this.waiters.shift()?.();
      } else if (msg.type === 'state') this.stateResolve?.(msg.state);
      else this.fail(new Error(`profiling worker failed: ${msg.message}`), onFailure);
    });
    this.worker.on('error', (err) => this.fail(err, onFailure));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`profiling worker exited with code ${code}`), onFailure);
    });
  }

  private fail(err: Error, onFailure: (err: Error) => void): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiters) w();
    onFailure(err);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async send(block: RowBlock, maxInFlight: number): Promise<void> {
    while (this.pending.size >= maxInFlight && !this.failure) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) throw this.failure;
    this.pending.set(block.index, () => undefined);
    const ab = block.bytes.buffer as ArrayBuffer;
    this.worker.postMessage(
      { type: 'block', index: block.index, bytes: ab, length: block.bytes.length } satisfies ToWorker,
      [ab],
    );
  }

  state(): Promise<ProfilerState> {
    return new Promise((resolve, reject) => {
      if (this.failure) reject(this.failure);
      this.stateResolve = resolve;
      this.worker.postMessage({ type: 'finish' } satisfies ToWorker);
    });
  }
}

/**
 * Profiles a stream of (decompressed) data bytes. The stream is cut into blocks of whole rows
 * (BlockSplitter: quote-aware, bounded), the blocks go round-robin to worker threads, each
 * profiles its blocks with the domain Profiler, and their states are merged (sketches, moments
 * and counts are all mergeable). Memory is bounded by workers × inFlight × blockBytes plus the
 * sketches, whatever the file's size; a file of one block or less is profiled in this thread.
 * Kinds not given are inferred from the first rows (sniffKinds), so every part agrees.
 * Deterministic for a given number of workers (static assignment, merge in worker order).
 */
export async function profileStream(
  chunks: AsyncIterable<Buffer>,
  options: ProfileOptions,
  parallel: ParallelOptions = {},
): Promise<Profile> {
  const workers = parallel.workers ?? defaultWorkers();
  const entry = workers > 1 ? workerEntry() : undefined;
  if (!entry) {
    const profiler = new Profiler(options);
    for await (const chunk of chunks) profiler.push(chunk);
    return profiler.finish();
  }
  const blockBytes = parallel.blockBytes ?? 4 << 20;
  const maxInFlight = parallel.inFlight ?? 2;
  // Block buffers are recycled: a worker hands each back when done, so at most
  // workers × inFlight (+1 being filled) exist, and RSS does not grow with the file.
  const buffers: ArrayBuffer[] = [];
  const alloc = (size: number): Buffer => {
    const i = buffers.findIndex((ab) => ab.byteLength >= size);
    const ab =
      i >= 0
        ? (buffers.splice(i, 1)[0] as ArrayBuffer)
        : new ArrayBuffer(Math.max(size, blockBytes + (2 << 20)));
    return Buffer.from(ab, 0, size);
  };
  const release = (ab: ArrayBuffer) => {
    if (buffers.length < workers * maxInFlight + 1) buffers.push(ab);
  };
  const splitter = new BlockSplitter(
    options.format,
    blockBytes,
    options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES,
    alloc,
  );
  const blockLines = new Map<number, number>();
  const skipped = new Map<number, number>();
  let slots: WorkerSlot[] | undefined;
  let local: Profiler | undefined;
  let header: string[] | undefined;
  let failure: Error | undefined;
  let queued: RowBlock | undefined;

  const start = (first: RowBlock) => {
    header = options.format === 'csv' && splitter.header ? headerNames(splitter.header) : undefined;
    const kinds = sniffKinds(first, options, header);
    slots = Array.from({ length: workers }, (_, w) => {
      const init: ProfileWorkerInit = {
        options: { ...options, kinds, seed: (options.seed ?? 1) + 7919 * w },
        header,
      };
      return new WorkerSlot(
        entry,
        init,
        (err) => {
          failure ??= err;
        },
        release,
      );
    });
  };
  const dispatch = async (block: RowBlock) => {
    skipped.set(block.index, block.skippedBefore);
    if (!slots) start(block);
    const pool = slots as WorkerSlot[];
    await (pool[block.index % pool.length] as WorkerSlot).send(block, maxInFlight);
  };

  try {
    for await (const chunk of chunks) {
      for (const block of splitter.push(chunk)) {
        // hold the first block back until a second one shows the file is worth the threads
        if (!slots && !queued) {
          queued = block;
          continue;
        }
        if (queued) {
          await dispatch(queued);
          queued = undefined;
        }
        await dispatch(block);
        if (failure) throw failure;
      }
    }
    const rest = splitter.end();
    if (!slots) {
      // small file: one block or less, profiled here the same way the workers would
      const blocks = [...(queued ? [queued] : []), ...rest];
      header = options.format === 'csv' && splitter.header ? headerNames(splitter.header) : undefined;
      local = new Profiler(options, header);
      for (const b of blocks) {
        skipped.set(b.index, b.skippedBefore);
        local.pushBlock(b.bytes, b.index);
      }
    } else {
      for (const block of rest) await dispatch(block);
    }
    let state: ProfilerState;
    if (local) state = local.state();
    else {
      const states = await Promise.all((slots as WorkerSlot[]).map((s) => s.state()));
      if (failure) throw failure;
      state = mergeProfilerStates(states, options);
    }
    state.oversized += splitter.oversized;
    state.headerOversized ||= splitter.headerOversized;
    for (const [index, lines] of state.blockLines) blockLines.set(index, lines);
    const offsets: number[] = [];
    let offset = options.format === 'csv' ? 1 : 0;
    const last = Math.max(-1, ...skipped.keys());
    for (let b = 0; b <= last; b++) {
      offset += skipped.get(b) ?? 0;
      offsets.push(offset);
      offset += blockLines.get(b) ?? 0;
    }
    return finishProfile(state, options, (block) => offsets[block] ?? 0);
  } finally {
    if (slots) await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
