import { KllSketch } from './kll.js';
import type { CategoricalProfile, ColumnKind, ColumnProfile, NumericProfile } from './profile.js';

/**
 * Accumulates one column in one pass. Until the kind is known (a baseline without a pinned
 * schema) it keeps both numeric statistics and capped category counts, and decides at the end:
 * numeric if every present value parsed as a number.
 */
export class ColumnAccumulator {
  private count = 0;
  private missing = 0;
  private invalid = 0;
  private mean = 0;
  private m2 = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private sketch: KllSketch | undefined;
  private readonly counts = new Map<string, number>();
  private other = 0;
  private nonNumeric = 0;
  private numericSeen = 0;

  constructor(
    readonly name: string,
    /** Known kind (pinned, or the baseline's); undefined = infer. */
    readonly kind: ColumnKind | undefined,
    private readonly cap: number,
    private readonly sketchK: number,
    private readonly seed: number,
  ) {
    if (kind !== 'categorical') this.sketch = new KllSketch(sketchK, seed);
  }

  get wantsNumber(): boolean {
    return this.kind !== 'categorical';
  }

  get wantsText(): boolean {
    return this.kind !== 'numeric';
  }

  addMissing(): void {
    this.missing++;
  }

  /** A value that parsed as a finite number (text given when the kind is still open). */
  addNumber(x: number, text?: string): void {
    this.numericSeen++;
    if (this.kind === 'categorical') {
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
    if (this.kind === undefined && text !== undefined) this.countCategory(text);
  }

  /** A present value that is not a number. */
  addText(text: string): void {
    if (this.kind === 'numeric') {
      this.invalid++;
      return;
    }
    this.nonNumeric++;
    if (this.kind === 'categorical') this.count++;
    this.countCategory(text);
  }

  private countCategory(text: string): void {
    const seen = this.counts.get(text);
    if (seen !== undefined) this.counts.set(text, seen + 1);
    else if (this.counts.size < this.cap) this.counts.set(text, 1);
    else this.other++;
  }

  finish(): ColumnProfile {
    const kind: ColumnKind =
      this.kind ?? (this.nonNumeric === 0 && this.numericSeen > 0 ? 'numeric' : 'categorical');
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
      count: this.kind === 'categorical' ? this.count : this.nonNumeric + this.numericSeen,
      missing: this.missing,
      counts: Object.fromEntries([...this.counts.entries()].sort((a, b) => b[1] - a[1])),
      other: this.other,
    };
    return p;
  }
}
