import { availableParallelism } from 'node:os';
import { BlockSplitter, type RowBlock } from '../../domain/profile/block-splitter.js';
import { csvHeaderNames, findCsvHeader, SNIFF_BYTES, sniffKinds } from '../../domain/profile/file-head.js';
import { finishProfile } from '../../domain/profile/finish-profile.js';
import type { Profile } from '../../domain/profile/profile.js';
import { DEFAULT_MAX_ROW_BYTES, type ProfileOptions } from '../../domain/profile/profile-options.js';
import { Profiler } from '../../domain/profile/profiler.js';
import {
  mergeProfilerStates,
  type ProfilerState,
  ProfilerStateMerger,
} from '../../domain/profile/profiler-state.js';
import { utf8BomLength } from '../../domain/profile/utf8-bom.js';
import { partBytesFor, partsProfile, profileParts } from './profile-part.js';
import { acquireWorkers, type ProfileWorker, releaseWorkers, workerScript } from './profile-pool.js';
import { type RangeSource, readFrom } from './range-reader.js';

export interface ParallelOptions {
  /** Worker threads; default os.availableParallelism() (a Lambda has up to 6 vCPUs). 0/1: in-thread. */
  readonly workers?: number;
  /** Bytes per block of rows sent to a worker (streams that cannot be split by range). */
  readonly blockBytes?: number;
  /** Blocks in flight per worker before the reader waits (bounds memory). */
  readonly inFlight?: number;
  /** Sources at least this large are split into byte ranges (default 8 MB). */
  readonly minRangeBytes?: number;
  /** Bytes per byte-range part (default partBytesFor: 4–64 MB, about a sixteenth). */
  readonly partBytes?: number;
  /** Told how long each stage of a byte-range profile took (the benchmark prints them). */
  readonly onStage?: (stage: ProfileStage, ms: number) => void;
}

/** Stages of profileSource: first megabyte and kinds; parts on the workers; merging them. */
export type ProfileStage = 'sniff' | 'parts' | 'merge';

const MIN_RANGE_BYTES = 8 << 20;
const LF = 0x0a;

export function defaultWorkers(): number {
  return availableParallelism();
}

async function readHead(source: RangeSource): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of readFrom(source, 0, SNIFF_BYTES)) {
    chunks.push(Buffer.from(chunk)); // a chunk is only good until the next is read
    n += chunk.length;
    if (n >= SNIFF_BYTES) break;
  }
  return Buffer.concat(chunks);
}

/**
 * Profiles a file that can be read by byte range (a local file, an uncompressed S3 object),
 * with one pass over its bytes spread over worker threads: the header and the column kinds
 * come from its first megabyte; then parts of 4–64 MB are profiled by the workers, each reading
 * its own bytes (from disk, or with ranged GETs of the same object version) — the main thread
 * only hands out parts — and their states merge in file order (see profileParts for why every
 * row is profiled exactly once, quotes or not). Memory per worker is one part's sketches and a
 * read buffer, whatever the file's size. Parts are laid out by size alone, so the profile is
 * the same for any number of workers. Small sources, one worker, or no worker script: one
 * streamed pass in this thread (profileStream).
 */
export async function profileSource(
  source: RangeSource,
  options: ProfileOptions,
  parallel: ParallelOptions = {},
): Promise<Profile> {
  const workers = parallel.workers ?? defaultWorkers();
  const script =
    workers > 1 && source.size >= (parallel.minRangeBytes ?? MIN_RANGE_BYTES) ? workerScript() : undefined;
  // in this thread: the profiler copies what it keeps of a chunk, as readFrom requires
  const streamed = () =>
    profileStream(readFrom(source, 0, source.size), options, { ...parallel, workers: 0 });
  if (!script) return streamed();
  const maxRowBytes = options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES;
  let lapStart = performance.now();
  const lap = (stage: ProfileStage) => {
    const now = performance.now();
    parallel.onStage?.(stage, now - lapStart);
    lapStart = now;
  };
  // threads start (a cold one takes a while) as this thread reads the header and sniffs kinds
  const pool = acquireWorkers(script, workers, () => undefined);
  let broken = true;
  try {
    const head = await readHead(source);
    let dataStart = Math.max(0, utf8BomLength(head));
    let header: string[] | undefined;
    let headerLines = 0;
    if (options.format === 'csv') {
      const found = findCsvHeader(head, maxRowBytes);
      if (!found) {
        // no header row within the first megabyte: the streamed pass says what is wrong
        broken = false;
        return await streamed();
      }
      ({ names: header, dataStart, lines: headerLines } = found);
    }
    const kinds = sniffKinds(head.subarray(dataStart, head.lastIndexOf(LF) + 1), options, header);
    const init = { options: { ...options, kinds }, header };
    lap('sniff');
    // parts are merged in file order as they come in, while the workers go on with the rest
    const merger = new ProfilerStateMerger(init.options);
    await profileParts(
      source,
      dataStart,
      parallel.partBytes ?? partBytesFor(source.size - dataStart),
      pool.map((w) => (task) => w.runPart(task, init)),
      (part) => merger.add(part.state),
    );
    lap('parts');
    broken = false;
    const merged = partsProfile(merger.state(), options, headerLines);
    lap('merge');
    return merged;
  } finally {
    await releaseWorkers(pool, broken);
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
  const script = workers > 1 ? workerScript() : undefined;
  if (!script) {
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
  let slots: ProfileWorker[] | undefined;
  let local: Profiler | undefined;
  let header: string[] | undefined;
  let failure: Error | undefined;
  let queued: RowBlock | undefined;
  /** The workers answered with their states: nothing is left under way in them. */
  let finished = false;

  const start = (first: RowBlock) => {
    header = options.format === 'csv' && splitter.header ? csvHeaderNames(splitter.header) : undefined;
    const kinds = sniffKinds(first.bytes, options, header);
    slots = acquireWorkers(
      script,
      workers,
      (err) => {
        failure ??= err;
      },
      release,
    );
    slots.forEach((worker, w) => {
      worker.begin({ options: { ...options, kinds, seed: (options.seed ?? 1) + 7919 * w }, header });
    });
  };
  const dispatch = async (block: RowBlock) => {
    skipped.set(block.index, block.skippedBefore);
    if (!slots) start(block);
    const pool = slots as ProfileWorker[];
    await (pool[block.index % pool.length] as ProfileWorker).sendBlock(block, maxInFlight);
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
      header = options.format === 'csv' && splitter.header ? csvHeaderNames(splitter.header) : undefined;
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
      const states = await Promise.all((slots as ProfileWorker[]).map((s) => s.state()));
      if (failure) throw failure;
      finished = true;
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
    if (slots) await releaseWorkers(slots, failure !== undefined || !finished);
  }
}
