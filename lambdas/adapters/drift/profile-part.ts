import { finishProfile } from '../../domain/profile/finish-profile.js';
import type { Profile } from '../../domain/profile/profile.js';
import type { ProfileOptions } from '../../domain/profile/profile-options.js';
import { Profiler } from '../../domain/profile/profiler.js';
import type { ProfilerState } from '../../domain/profile/profiler-state.js';
import { type RangeSource, readFrom } from './range-reader.js';

const LF = 0x0a;

/** One part of a file split into byte ranges. */
export interface PartTask {
  readonly index: number;
  readonly source: RangeSource;
  /** Nominal byte range [start, end): the part profiles every row that starts in it. */
  readonly start: number;
  readonly end: number;
  /**
   * `start` is known to be a row start: the first part, or a part re-read from where the part
   * before it really ended. Otherwise the part guesses: the first byte after a newline at or
   * after start − 1 (wrong only when that newline sits inside a quoted field).
   */
  readonly knownStart: boolean;
}

export interface PartResult {
  readonly index: number;
  /** Where the part's first row started (absolute offset). */
  readonly rowStart: number;
  /** Where the first row it left to the next part starts: the first row start ≥ end. */
  readonly rowEnd: number;
  readonly state: ProfilerState;
}

/** The last CSV part's profiler in this thread, what it was made for, and whether it is in use. */
let recycled: { key: string; profiler: Profiler; busy: boolean } | undefined;

/**
 * A profiler for a part: for another part of the same CSV file (same options and header), the
 * last one started over, which keeps the arrays its columns have grown; otherwise a new one.
 * Call done() when its state has been taken.
 */
function profilerFor(
  options: ProfileOptions,
  header: readonly string[] | undefined,
  seed: number,
): { profiler: Profiler; done: () => void } {
  const partOptions = { ...options, seed, pinAfterRows: Number.POSITIVE_INFINITY };
  if (options.format !== 'csv' || !header)
    return { profiler: new Profiler(partOptions, header), done: () => {} };
  const key = JSON.stringify([options, header]);
  if (recycled?.key === key && !recycled.busy) recycled.profiler.restart(seed);
  else if (!recycled?.busy) recycled = { key, profiler: new Profiler(partOptions, header), busy: false };
  else return { profiler: new Profiler(partOptions, header), done: () => {} }; // parts at once in one thread
  const mine = recycled;
  mine.busy = true;
  return {
    profiler: mine.profiler,
    done: () => {
      mine.busy = false;
    },
  };
}

/** Each part's sketches get a seed of their own, fixed by the part's place, not the thread. */
export function partSeed(seed: number | undefined, index: number): number {
  return (seed ?? 1) + 7919 * index;
}

/**
 * Profiles one part: reads from the part's start (finding its first row if the start is a
 * guess), profiles rows that start before its end, finishes the row under way there, and says
 * where it really began and ended so the parts can be checked against each other.
 */
export async function profilePart(
  task: PartTask,
  options: ProfileOptions,
  header: readonly string[] | undefined,
): Promise<PartResult> {
  const { profiler, done } = profilerFor(options, header, partSeed(options.seed, task.index));
  try {
    return await readPart(task, profiler);
  } finally {
    done();
  }
}

async function readPart(task: PartTask, profiler: Profiler): Promise<PartResult> {
  let at = task.knownStart ? task.start : Math.max(0, task.start - 1);
  let rowStart = task.knownStart ? task.start : -1;
  if (rowStart >= 0) profiler.asPart(task.index, task.end - rowStart);
  // the profiler copies what it keeps of a chunk, as readFrom requires
  for await (const chunk of readFrom(task.source, at, task.end)) {
    let bytes = chunk;
    if (rowStart < 0) {
      const lf = bytes.indexOf(LF);
      if (lf < 0) {
        at += bytes.length;
        continue;
      }
      rowStart = at + lf + 1;
      bytes = bytes.subarray(lf + 1);
      profiler.asPart(task.index, task.end - rowStart);
    }
    at += chunk.length;
    profiler.push(bytes);
    if (profiler.stoppedAt !== undefined) break;
  }
  if (rowStart < 0) {
    // no newline from here to the end: no row starts in this part
    profiler.asPart(task.index, 0);
    rowStart = task.source.size;
  }
  const state = profiler.state();
  return { index: task.index, rowStart, rowEnd: rowStart + (profiler.stoppedAt ?? 0), state };
}

/** Parts of about a sixteenth of the data, 4–64 MB: enough to share among up to 6 vCPUs. */
export function partBytesFor(dataBytes: number): number {
  return Math.min(64 << 20, Math.max(4 << 20, Math.ceil(dataBytes / 16)));
}

/**
 * Profiles [dataStart, size) of a source as parts of partBytes, as many at a time as there are
 * runners (worker threads), and hands each part to `accept` in file order as soon as it and
 * all before it are done and checked (so merging overlaps the profiling). The check: part i+1
 * guessed its first row right exactly when it starts where part i ended. A wrong guess (a
 * quoted field with a newline across the boundary) is re-read from where part i ended, which
 * is a row start because part 0 starts at one and every part before has been checked. The
 * parts therefore cover every row once, whatever the quotes; normally each byte is read once.
 * Returns the number of parts.
 */
export async function profileParts(
  source: RangeSource,
  dataStart: number,
  partBytes: number,
  /** One per worker thread: part after part goes to whichever is free. */
  runners: readonly ((task: PartTask) => Promise<PartResult>)[],
  accept: (part: PartResult) => void,
): Promise<number> {
  const tasks: PartTask[] = [];
  for (let start = dataStart, index = 0; start < source.size || index === 0; start += partBytes, index++) {
    tasks.push({
      index,
      source,
      start,
      end: Math.min(source.size, start + partBytes),
      knownStart: index === 0,
    });
  }
  const done = new Map<number, PartResult>();
  let next = 0;
  let nextStart = dataStart;
  let queued = 0;
  /** Accepts what is done in order; returns a part to re-read, if the next one guessed wrong. */
  const settle = (): PartTask | undefined => {
    for (let part = done.get(next); part; part = done.get(next)) {
      done.delete(next);
      if (part.rowStart !== nextStart) {
        return { ...(tasks[next] as PartTask), start: nextStart, knownStart: true };
      }
      accept(part);
      nextStart = part.rowEnd;
      next++;
    }
    return undefined;
  };
  const lane = async (run: (task: PartTask) => Promise<PartResult>) => {
    let task = tasks[queued++];
    while (task) {
      const result = await run(task);
      done.set(result.index, result);
      // the lane that finds a wrong guess re-reads it at once; otherwise it takes the next part
      task = settle() ?? tasks[queued++];
    }
  };
  if (!runners.length) throw new Error('profileParts needs at least one runner');
  await Promise.all(runners.map(lane));
  if (next !== tasks.length) throw new Error(`profiled ${next} of ${tasks.length} parts`);
  return tasks.length;
}

/**
 * The profile of the merged parts: skipped rows get their line in the file from the lines each
 * part read (`headerLines`: the lines before the data, i.e. the header row and any blank ones).
 */
export function partsProfile(state: ProfilerState, options: ProfileOptions, headerLines: number): Profile {
  const offsets = new Map<number, number>();
  let offset = headerLines;
  for (const [part, lines] of [...state.blockLines].sort((a, b) => a[0] - b[0])) {
    offsets.set(part, offset);
    offset += lines;
  }
  return finishProfile(state, options, (part) => offsets.get(part) ?? 0);
}
