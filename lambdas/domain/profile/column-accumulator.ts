import { KllSketch, type KllState } from './kll.js';
import type { CategoricalProfile, ColumnKind, ColumnProfile, NumericProfile } from './profile.js';

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
  sketch: KllState | undefined;
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
 */
export class ColumnAccumulator {
  private count = 0;
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
    private readonly seed: number,
  ) {
    this._kind = kind;
    if (kind !== 'categorical') this.sketch = new KllSketch(sketchK, seed);
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
    const d = x - this.mean;
    this.mean += d / this.count;
    this.m2 += d * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    (this.sketch as KllSketch).update(x);
    if (this._kind === undefined && text !== undefined) this.countCategory(text);
  }

  /** A present value that is not a number. */
  addText(text: string): void {
    if (this._kind === 'numeric') {
      this.invalid++;
      if (this.invalidExample === undefined) this.invalidExample = text.slice(0, 40);
      return;
    }
    this.nonNumeric++;
    if (this._kind === 'categorical') this.count++;
    this.countCategory(text);
  }

  private countCategory(text: string): void {
    const seen = this.counts.get(text);
    if (seen !== undefined) this.counts.set(text, seen + 1);
    else if (this.counts.size < this.cap) this.counts.set(text, 1);
    else this.other++;
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
    }
    this._kind = kind;
  }

  state(): ColumnState {
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
      sketch: this.sketch?.toJSON(),
      counts: [...this.counts.entries()],
      other: this.other,
      nonNumeric: this.nonNumeric,
      numericSeen: this.numericSeen,
    };
  }

  /** Folds another accumulator's state (same column, other rows) into this one. */
  merge(s: ColumnState): void {
    if (s.kind !== this._kind) {
      throw new Error(
        `column "${this.name}" is ${s.kind ?? 'open'} in one part and ${this._kind ?? 'open'} in another`,
      );
    }
    const n = this.count + s.count;
    if (this._kind !== 'categorical') {
      const delta = s.mean - this.mean;
      this.m2 += s.m2 + (n ? (delta * delta * this.count * s.count) / n : 0);
      this.mean = n ? this.mean + (delta * s.count) / n : 0;
      this.min = Math.min(this.min, s.min);
      this.max = Math.max(this.max, s.max);
      if (s.sketch) (this.sketch as KllSketch).merge(KllSketch.fromJSON(s.sketch));
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
