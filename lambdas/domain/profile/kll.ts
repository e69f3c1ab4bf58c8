/*
 * A hot loop, kept whole on purpose although it is over 400 lines (its read side, the CDF and
 * quantiles, is sketch-distribution.ts): every numeric value of a profiled file goes through
 * KllSketch — update() stores it, and the level-0 sort and the compactions (mergeSortedInto,
 * halveMerged) are where a profile spends about half its time (docs/monitoring.md). The levels,
 * their sizes and capacities, the buffer and the compaction coin are one data structure whose
 * invariants every method relies on; spreading it over files would only expose them, and the
 * helpers stay module-private so nothing outside can break those invariants.
 */
import { sortFloat64 } from './float-sort.js';

/**
 * KLL quantile sketch (Karnin, Lang, Liberty 2016): bounded size, mergeable, with a rank error
 * that does not depend on the distribution. No KLL exists on npm, so this is our own.
 *
 * Layout: levels[h] holds items of weight 2^h; level 0 is an unsorted buffer, the others are
 * kept sorted so compacting them is a linear merge. Compacting a level keeps every other item
 * (a seeded coin picks odd or even) and promotes them one level up. Level h's capacity is
 * k·(2/3)^(depth below the top), at least 8; level 0 is additionally a lazy buffer of
 * LEVEL0_BUFFER items, so the hot path is an array store and one sort per buffer-full.
 *
 * Error bound: DataSketches measures KLL's normalised rank error at 99 % confidence as about
 * 2.446 / k^0.9433 (`rankErrorBound`: k = 400 ≈ 0.86 %, k = 800 ≈ 0.45 %); the larger, lazily
 * compacted level 0 only lowers it, and it does not depend on n or on the distribution. A KS
 * distance between two sketches errs by at most the sum of both errors, so the default k = 800
 * keeps it under 0.01. Size: at most about 3k retained values whatever n is (≈ 2,400 doubles,
 * tens of kilobytes of JSON at k = 800). Merging two sketches gives a sketch of the union with the
 * same bound. test/unit/profile/kll.test.ts checks all of this against exact ranks on seeded
 * data. Same values in the same order, same seed ⇒ the same sketch. Values must be finite or
 * ±Infinity; NaN is ignored (callers count it as missing).
 */
export interface KllState {
  readonly k: number;
  readonly n: number;
  readonly min: number;
  readonly max: number;
  /** Sorted items per level; levels[h] has weight 2^h. */
  readonly levels: number[][];
  readonly seed: number;
  /** Compactions so far: the coin of the next one is derived from (seed, compactions). */
  readonly compactions: number;
}

/**
 * A sketch's state for handing between threads: every level's items in one typed array, which
 * structured clone copies as a block (number[][] is cloned value by value: tens of milliseconds
 * for the parts of a large file).
 */
export interface KllPacked {
  readonly k: number;
  readonly n: number;
  readonly min: number;
  readonly max: number;
  readonly seed: number;
  readonly compactions: number;
  /** Items per level; the levels follow each other in `items`. */
  readonly sizes: number[];
  readonly items: Float64Array;
}

export const DEFAULT_SKETCH_K = 800;

/** The normalised rank error a sketch with parameter k stays within at 99 % confidence. */
export function rankErrorBound(k: number): number {
  return 2.446 / k ** 0.9433;
}
const LEVEL0_BUFFER = 4096;
const MIN_CAPACITY = 8;
const EMPTY = new Float64Array(0);

/** A 32-bit integer hash (splitmix-style) so the coin needs no mutable RNG to serialise. */
export function coin(seed: number, index: number): number {
  let x = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return ((x ^ (x >>> 16)) >>> 0) & 1;
}

/** Merges sorted a[0, aLength) and b[0, bLength) into out (which holds both). */
function mergeSortedInto(
  a: Float64Array,
  aLength: number,
  b: Float64Array,
  bLength: number,
  out: Float64Array,
): void {
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < aLength && j < bLength) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x <= y) {
      out[o++] = x;
      i++;
    } else {
      out[o++] = y;
      j++;
    }
  }
  while (i < aLength) out[o++] = a[i++] as number;
  while (j < bLength) out[o++] = b[j++] as number;
}

/**
 * Every other item, from `offset`, of the merge of sorted a[0, aLength) and b[0, bLength) (a
 * first among equals), into out; returns the merge's last item, the odd one out when the
 * total is odd. A function of its own, so V8 compiles it whole, not on-stack mid-loop before
 * the comparison has run (level a is empty in a new sketch's first flushes).
 */
function halveMerged(
  a: Float64Array,
  aLength: number,
  b: Float64Array,
  bLength: number,
  offset: number,
  out: Float64Array,
): number {
  const even = (aLength + bLength) & ~1;
  let i = 0;
  let k = 0;
  let o = 0;
  for (let j = 0; j < even; j++) {
    let x: number;
    if (i < aLength && (k >= bLength || (a[i] as number) <= (b[k] as number))) x = a[i++] as number;
    else x = b[k++] as number;
    if ((j & 1) === offset) out[o++] = x;
  }
  return (i < aLength && (k >= bLength || (a[i] as number) <= (b[k] as number)) ? a[i] : b[k]) as number;
}

/** Room for n items, with headroom so a level that grows a little does not reallocate. */
function room(n: number): Float64Array {
  return new Float64Array(Math.max(MIN_CAPACITY, n + (n >> 2)));
}

export class KllSketch {
  n = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  private buffer: Float64Array;
  private buffered = 0;
  /**
   * Sorted items of weight 2^h in levels[h][0, sizes[h]) (level 0: once out of the buffer).
   * The arrays are storage, reused: a merge writes into `scratch` and swaps it with the level,
   * so once they have grown to their working sizes a flush allocates nothing (thousands of
   * short-lived arrays per file would otherwise keep the garbage collector busy).
   */
  private levels: Float64Array[] = [EMPTY];
  private sizes: number[] = [0];
  private scratch: Float64Array = EMPTY;
  private promoted: Float64Array = EMPTY;
  private promotedNext: Float64Array = EMPTY;
  private compactions = 0;

  constructor(
    readonly k = DEFAULT_SKETCH_K,
    private coinSeed = 1,
  ) {
    this.buffer = new Float64Array(Math.max(LEVEL0_BUFFER, k));
  }

  get seed(): number {
    return this.coinSeed;
  }

  /** Empty again, with a new seed; its arrays are kept for the next values. */
  reset(seed: number): void {
    this.coinSeed = seed;
    this.n = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
    this.buffered = 0;
    this.sizes.fill(0);
    this.compactions = 0;
  }

  update(x: number): void {
    // biome-ignore lint/suspicious/noSelfCompare: the cheapest NaN test on the hot path
    if (x !== x) return;
    this.n++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.buffer[this.buffered++] = x;
    if (this.buffered === this.buffer.length) this.flushBuffer();
  }

  /**
   * update() for the first n values of a batch, in order: the same sketch as n update() calls,
   * with the per-value work (NaN test, min/max, buffer store) in one tight loop.
   */
  updateMany(values: Float64Array, n: number): void {
    let i = 0;
    while (i < n) {
      const room = this.buffer.length - this.buffered;
      const end = Math.min(n, i + room);
      let lo = this.min;
      let hi = this.max;
      let stored = this.buffered;
      for (; i < end; i++) {
        const x = values[i] as number;
        // biome-ignore lint/suspicious/noSelfCompare: the cheapest NaN test on the hot path
        if (x !== x) continue;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
        this.buffer[stored++] = x;
      }
      this.n += stored - this.buffered;
      this.min = lo;
      this.max = hi;
      this.buffered = stored;
      if (this.buffered === this.buffer.length) this.flushBuffer();
    }
  }

  /**
   * updateMany() for a full batch of finite values whose min and max the caller has, without
   * copying: when the buffer is empty and the batch is its size, the two arrays change hands
   * and the caller gets the (empty) buffer back to fill next. Otherwise the values are copied
   * and the batch is returned. Either way the same sketch as updateMany().
   */
  takeBatch(batch: Float64Array, n: number, min: number, max: number): Float64Array {
    if (this.buffered || n !== this.buffer.length || batch.length !== n) {
      this.updateMany(batch, n);
      return batch;
    }
    const empty = this.buffer;
    this.buffer = batch;
    this.buffered = n;
    this.n += n;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
    this.flushBuffer();
    return empty;
  }

  private capacity(h: number): number {
    const depth = this.levels.length - 1 - h;
    return Math.max(MIN_CAPACITY, Math.ceil(this.k * (2 / 3) ** depth));
  }

  private totalCapacity(): number {
    let total = 0;
    for (let h = 0; h < this.levels.length; h++) total += this.capacity(h);
    return total;
  }

  private stored(): number {
    let total = 0;
    for (const size of this.sizes) total += size;
    return total;
  }

  private addLevel(): void {
    this.levels.push(EMPTY);
    this.sizes.push(0);
  }

  /** Merges sorted src[0, count) into level h. */
  private mergeInto(h: number, src: Float64Array, count: number): void {
    if (!count) return;
    const level = this.levels[h] as Float64Array;
    const size = this.sizes[h] as number;
    const total = size + count;
    if (this.scratch.length < total) this.scratch = room(total);
    mergeSortedInto(level, size, src, count, this.scratch);
    this.levels[h] = this.scratch;
    this.scratch = level;
    this.sizes[h] = total;
  }

  /**
   * Sorts the buffer into level 0, then compacts lazily, as DataSketches does: only while the
   * sketch holds more than its total capacity, and always the lowest level at or over its own,
   * so the whole budget of ~3k items is used before any precision is given up.
   */
  private flushBuffer(): void {
    if (this.buffered) {
      sortFloat64(this.buffer, this.buffered);
      const count = this.buffered;
      this.buffered = 0;
      this.cascade(this.buffer, count);
    }
    while (this.stored() > this.totalCapacity()) {
      let h = 0;
      while ((this.sizes[h] as number) < this.capacity(h)) h++;
      if (h + 1 === this.levels.length) this.addLevel();
      this.compact(h);
    }
  }

  /**
   * Sorted new items into level 0, and the compactions the loop in flushBuffer would then make
   * one level after another (each level's merge with what comes up from below, then its halving)
   * done as one pass per level: the merged level is never written out, only the half that goes
   * up. The same items, coins and order as merging and then compacting; stops with a plain merge
   * where the loop would not compact the level next.
   */
  private cascade(items: Float64Array, count: number): void {
    let src = items;
    let n = count;
    let stored = this.stored() + n;
    for (let h = 0; ; h++) {
      const size = this.sizes[h] as number;
      const total = size + n;
      if (total < this.capacity(h) || stored <= this.totalCapacity()) {
        this.mergeInto(h, src, n);
        return;
      }
      if (h + 1 === this.levels.length) this.addLevel();
      const even = total & ~1;
      const half = even >> 1;
      // two buffers in turn: what went up last time is this level's input
      let out = src === this.promoted ? this.promotedNext : this.promoted;
      if (out.length < half) {
        out = room(half);
        if (src === this.promoted) this.promotedNext = out;
        else this.promoted = out;
      }
      const level = this.levels[h] as Float64Array;
      const offset = coin(this.coinSeed, this.compactions++);
      const last = halveMerged(level, size, src, n, offset, out);
      // an odd item out stays behind at its own weight (in storage that may not exist yet)
      if (even < total) {
        if (!level.length) this.levels[h] = room(MIN_CAPACITY);
        (this.levels[h] as Float64Array)[0] = last;
      }
      this.sizes[h] = total - even;
      stored -= half;
      src = out;
      n = half;
    }
  }

  private compact(h: number): void {
    const level = this.levels[h] as Float64Array;
    const size = this.sizes[h] as number;
    const even = size & ~1;
    const offset = coin(this.coinSeed, this.compactions++);
    const half = even >> 1;
    if (this.promoted.length < half) this.promoted = room(half);
    const promoted = this.promoted;
    for (let i = offset, o = 0; i < even; i += 2) promoted[o++] = level[i] as number;
    // An odd item out stays behind at its own weight.
    if (even < size) level[0] = level[even] as number;
    this.sizes[h] = size - even;
    this.mergeInto(h + 1, promoted, half);
  }

  merge(other: KllSketch): void {
    if (!other.n) return;
    if (other.k !== this.k) throw new Error(`cannot merge a k=${other.k} sketch into a k=${this.k} one`);
    other.flushBuffer();
    this.flushBuffer();
    while (this.levels.length < other.levels.length) this.addLevel();
    other.levels.forEach((items, h) => {
      this.mergeInto(h, items, other.sizes[h] as number);
    });
    this.n += other.n;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.compactions += other.compactions;
    this.flushBuffer();
  }

  /** Retained items (for size checks). */
  get retained(): number {
    return this.buffered + this.stored();
  }

  /** The weighted sample, sorted by value: what the CDF and quantiles are read from. */
  weightedItems(): { values: Float64Array; cumulative: Float64Array; total: number } {
    this.flushBuffer();
    let runs: { values: Float64Array; weight: number }[] = this.levels.map((values, h) => ({
      values: values.subarray(0, this.sizes[h]),
      weight: 2 ** h,
    }));
    runs = runs.filter((r) => r.values.length);
    const size = runs.reduce((s, r) => s + r.values.length, 0);
    const values = new Float64Array(size);
    const weights = new Float64Array(size);
    // k-way merge of the sorted levels (few levels, so a linear scan for the minimum is fine).
    const heads = runs.map(() => 0);
    for (let o = 0; o < size; o++) {
      let best = -1;
      let bestValue = Number.POSITIVE_INFINITY;
      for (let r = 0; r < runs.length; r++) {
        const run = runs[r] as { values: Float64Array; weight: number };
        const i = heads[r] as number;
        if (i < run.values.length && (best < 0 || (run.values[i] as number) < bestValue)) {
          best = r;
          bestValue = run.values[i] as number;
        }
      }
      const run = runs[best] as { values: Float64Array; weight: number };
      values[o] = bestValue;
      weights[o] = run.weight;
      heads[best] = (heads[best] as number) + 1;
    }
    const cumulative = new Float64Array(size);
    let total = 0;
    for (let i = 0; i < size; i++) {
      total += weights[i] as number;
      cumulative[i] = total;
    }
    return { values, cumulative, total };
  }

  /** The serialisable state (at most the total capacity, ~3k numbers, once the buffer is in). */
  toJSON(): KllState {
    this.flushBuffer();
    return {
      k: this.k,
      n: this.n,
      min: this.n ? this.min : 0,
      max: this.n ? this.max : 0,
      levels: this.levels.map((l, h) => Array.from(l.subarray(0, this.sizes[h]))),
      seed: this.seed,
      compactions: this.compactions,
    };
  }

  toPacked(): KllPacked {
    this.flushBuffer();
    const items = new Float64Array(this.stored());
    let at = 0;
    this.levels.forEach((level, h) => {
      const size = this.sizes[h] as number;
      items.set(level.subarray(0, size), at);
      at += size;
    });
    return {
      k: this.k,
      n: this.n,
      min: this.min,
      max: this.max,
      seed: this.seed,
      compactions: this.compactions,
      sizes: [...this.sizes],
      items,
    };
  }

  static fromPacked(p: KllPacked): KllSketch {
    const s = new KllSketch(p.k, p.seed);
    let at = 0;
    s.levels = p.sizes.map((size) => {
      at += size;
      return p.items.slice(at - size, at);
    });
    if (!s.levels.length) s.levels = [EMPTY];
    s.sizes = s.levels.map((l) => l.length);
    s.n = p.n;
    s.min = p.min;
    s.max = p.max;
    s.compactions = p.compactions;
    return s;
  }

  static fromJSON(state: KllState): KllSketch {
    const s = new KllSketch(state.k, state.seed);
    s.levels = state.levels.length ? state.levels.map((l) => Float64Array.from(l)) : [EMPTY];
    s.sizes = s.levels.map((l) => l.length);
    s.n = state.n;
    s.min = state.n ? state.min : Number.POSITIVE_INFINITY;
    s.max = state.n ? state.max : Number.NEGATIVE_INFINITY;
    s.compactions = state.compactions ?? 0;
    return s;
  }
}
