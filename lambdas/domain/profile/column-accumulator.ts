import { type KllPacked, KllSketch } from './kll.js';
import type { CategoricalProfile, ColumnKind, ColumnProfile, NumericProfile } from './profile.js';

/** Numbers are folded into the moments and the sketch this many at a time. */
const NUMBER_BATCH = 4096;

/**
 * An accumulator's whole state as plain data: what a profiling worker thread sends back, and
 * what merges (byte ranges of one file profiled in parallel merge into the file's profile).
 */
export interface ColumnState {
  name: string;
  /** Pinned kind; undefined while still being inferred. */
  kind: ColumnKind | undefined;
  count: number;
  missing: number;
  invalid: number;
  invalidExample: string | undefined;
  mean: number;
  m2: number;
  min: number;
  max: number;
  sketch: KllPacked | undefined;
  counts: [string, number][];
  other: number;
  nonNumeric: number;
  numericSeen: number;
}

/**
 * Accumulates one column in one pass. Until the kind is known (a baseline without a pinned
 * schema) it keeps both numeric statistics and capped category counts; `pin()` then settles the
 * kind from what it has seen (numeric if every present value parsed as a number), after which a
 * numeric column counts text as invalid (reported, scored as missing) and stops keeping counts.
 *
 * Numbers are gathered into a batch and folded in NUMBER_BATCH at a time: the batch's mean and
 * sum of squared deviations in two passes, combined with the running ones by Chan et al.'s
 * formula (as exact as Welford's one-at-a-time update, without a division per value), min/max,
 * and one bulk sketch update. The result depends only on the values' order, not on who
 * delivered them, so the fast and the general CSV paths profile a file identically.
 */
export class ColumnAccumulator {
  private count = 0;
  /** Values waiting in `batch` (counted in `count`, not yet in mean/m2/min/max/sketch). */
  private batched = 0;
  private batch: Float64Array | undefined;
  private missing = 0;
  private invalid = 0;
  private invalidExample: string | undefined;
  private mean = 0;
  private m2 = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private sketch: KllSketch | undefined;
  private counts = new Map<string, number>();
  private other = 0;
  private nonNumeric = 0;
  private numericSeen = 0;
  private _kind: ColumnKind | undefined;

  constructor(
    readonly name: string,
    /** Known kind (pinned, or the baseline's); undefined = infer. */
    kind: ColumnKind | undefined,
    private readonly cap: number,
    private readonly sketchK: number,
    private seed: number,
  ) {
    this._kind = kind;
    if (kind !== 'categorical') {
      this.sketch = new KllSketch(sketchK, seed);
      this.batch = new Float64Array(NUMBER_BATCH);
    }
  }

  /**
   * Empty again for other rows of the same column (another part of the file), with a new seed;
   * the kind stays, and the number batch and sketch keep their arrays.
   */
  restart(seed: number): void {
    this.seed = seed;
    this.count = 0;
    this.batched = 0;
    this.missing = 0;
    this.invalid = 0;
    this.invalidExample = undefined;
    this.mean = 0;
    this.m2 = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
    this.sketch?.reset(seed);
    this.counts = new Map();
    this.other = 0;
    this.nonNumeric = 0;
    this.numericSeen = 0;
  }

  get kind(): ColumnKind | undefined {
    return this._kind;
  }

  get wantsNumber(): boolean {
    return this._kind !== 'categorical';
  }

  get wantsText(): boolean {
    return this._kind !== 'numeric';
  }

  addMissing(times = 1): void {
    this.missing += times;
  }

  /** A value that parsed as a finite number (text given when the kind is still open). */
  addNumber(x: number, text?: string): void {
    this.numericSeen++;
    if (this._kind === 'categorical') {
      this.addText(text ?? String(x));
      return;
    }
    this.count++;
    const batch = this.batch as Float64Array;
    batch[this.batched++] = x;
    if (this.batched === batch.length) this.foldNumbers();
    if (this._kind === undefined && text !== undefined) this.countCategory(text);
  }

  /** values[start, start + count): finite numbers of a numeric column, in order (the fast path). */
  addNumbers(values: Float64Array, start: number, count: number): void {
    if (this._kind !== 'numeric') {
      for (let i = start; i < start + count; i++) this.addNumber(values[i] as number);
      return;
    }
    this.numericSeen += count;
    for (let i = start, end = start + count; i < end; ) {
      // re-read each time: a fold hands the full batch to the sketch and takes another array
      const batch = this.batch as Float64Array;
      const take = Math.min(end - i, batch.length - this.batched);
      batch.set(values.subarray(i, i + take), this.batched);
      this.batched += take;
      this.count += take;
      i += take;
      if (this.batched === batch.length) this.foldNumbers();
    }
  }

  /** Folds the batch into the moments, min/max and sketch. */
  private foldNumbers(): void {
    const n = this.batched;
    const batch = this.batch;
    if (!n || !batch) return;
    this.batched = 0;
    let sum = 0;
    let lo = this.min;
    let hi = this.max;
    for (let i = 0; i < n; i++) {
      const x = batch[i] as number;
      sum += x;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const mean = sum / n;
    let m2 = 0;
    for (let i = 0; i < n; i++) {
      const d = (batch[i] as number) - mean;
      m2 += d * d;
    }
    this.min = lo;
    this.max = hi;
    this.addMoments(mean, m2, this.count - n, n);
    // a full batch becomes the sketch's buffer as it is, and its empty one our next batch
    if (this.sketch) this.batch = this.sketch.takeBatch(batch, n, lo, hi);
  }

  /**
   * Chan et al.'s combination: folds another group's mean and sum of squared deviations (of
   * `added` values) into this column's, which hold `before` values.
   */
  private addMoments(mean: number, m2: number, before: number, added: number): void {
    const total = before + added;
    const delta = mean - this.mean;
    this.m2 += m2 + (total ? (delta * delta * before * added) / total : 0);
    this.mean = total ? this.mean + (delta * added) / total : 0;
  }

  /** A present value that is not a number. */
  addText(text: string): void {
    this.addTexts(text, 1);
  }

  /** `times` present values that are the same text (a batch of one category's occurrences). */
  addTexts(text: string, times: number): void {
    if (this._kind === 'numeric') {
      this.invalid += times;
      if (this.invalidExample === undefined) this.invalidExample = text.slice(0, 40);
      return;
    }
    this.nonNumeric += times;
    if (this._kind === 'categorical') this.count += times;
    this.countCategory(text, times);
  }

  private countCategory(text: string, times = 1): void {
    const seen = this.counts.get(text);
    if (seen !== undefined) this.counts.set(text, seen + times);
    else if (this.counts.size < this.cap) this.counts.set(text, times);
    else this.other += times;
  }

  /** The kind the values so far support (undefined: no present value yet). */
  private inferred(): ColumnKind | undefined {
    if (this.nonNumeric > 0) return 'categorical';
    return this.numericSeen > 0 ? 'numeric' : undefined;
  }

  /** Settles an open kind from the values seen so far (no-op while none were seen). */
  pin(): void {
    if (this._kind !== undefined) return;
    const kind = this.inferred();
    if (kind === 'numeric') {
      this.counts.clear();
      this.other = 0;
    } else if (kind === 'categorical') {
      this.count = this.nonNumeric + this.numericSeen;
      this.sketch = undefined;
      this.batch = undefined;
      this.batched = 0;
    }
    this._kind = kind;
  }

  state(): ColumnState {
    this.foldNumbers();
    return {
      name: this.name,
      kind: this._kind,
      count: this.count,
      missing: this.missing,
      invalid: this.invalid,
      invalidExample: this.invalidExample,
      mean: this.mean,
      m2: this.m2,
      min: this.min,
      max: this.max,
      sketch: this.sketch?.toPacked(),
      counts: [...this.counts.entries()],
      other: this.other,
      nonNumeric: this.nonNumeric,
      numericSeen: this.numericSeen,
    };
  }

  /** Folds another accumulator's state (same column, other rows) into this one. */
  merge(s: ColumnState): void {
    this.foldNumbers();
    if (s.kind !== this._kind) {
      throw new Error(
        `column "${this.name}" is ${s.kind ?? 'open'} in one part and ${this._kind ?? 'open'} in another`,
      );
    }
    const n = this.count + s.count;
    if (this._kind !== 'categorical') {
      this.addMoments(s.mean, s.m2, this.count, s.count);
      this.min = Math.min(this.min, s.min);
      this.max = Math.max(this.max, s.max);
      if (s.sketch) (this.sketch as KllSketch).merge(KllSketch.fromPacked(s.sketch));
    }
    this.count = n;
    this.missing += s.missing;
    this.invalid += s.invalid;
    this.invalidExample ??= s.invalidExample;
    this.nonNumeric += s.nonNumeric;
    this.numericSeen += s.numericSeen;
    this.other += s.other;
    for (const [value, c] of s.counts) this.counts.set(value, (this.counts.get(value) ?? 0) + c);
    if (this.counts.size > this.cap) {
      const sorted = [...this.counts.entries()].sort((a, b) => b[1] - a[1]);
      this.counts = new Map(sorted.slice(0, this.cap));
      for (const [, c] of sorted.slice(this.cap)) this.other += c;
    }
  }

  static fromState(s: ColumnState, cap: number, sketchK: number, seed: number): ColumnAccumulator {
    const acc = new ColumnAccumulator(s.name, s.kind, cap, sketchK, seed);
    acc.merge(s);
    return acc;
  }

  finish(): ColumnProfile {
    this.foldNumbers();
    const kind: ColumnKind = this._kind ?? (this.inferred() === 'numeric' ? 'numeric' : 'categorical');
    if (kind === 'numeric') {
      const p: NumericProfile = {
        kind,
        count: this.count,
        missing: this.missing,
        invalid: this.invalid,
        mean: this.count ? this.mean : 0,
        m2: this.m2,
        min: this.count ? this.min : 0,
        max: this.count ? this.max : 0,
        sketch: (this.sketch ?? new KllSketch(this.sketchK, this.seed)).toJSON(),
      };
      return p;
    }
    const p: CategoricalProfile = {
      kind,
      count: this._kind === 'categorical' ? this.count : this.nonNumeric + this.numericSeen,
      missing: this.missing,
      counts: Object.fromEntries([...this.counts.entries()].sort((a, b) => b[1] - a[1])),
      other: this.other,
    };
    return p;
  }

  /** The first non-numeric value seen in a numeric column, for the warning. */
  get firstInvalid(): string | undefined {
    return this.invalidExample;
  }
}
