import type { KllSketch } from './kll.js';

/** Empirical CDF and quantiles over a sketch's weighted sample. */
export class SketchDistribution {
  private readonly values: Float64Array;
  private readonly cumulative: Float64Array;
  readonly total: number;

  constructor(sketch: KllSketch) {
    ({ values: this.values, cumulative: this.cumulative, total: this.total } = sketch.weightedItems());
  }

  /** F(x) = P(X ≤ x). */
  cdf(x: number): number {
    let lo = 0;
    let hi = this.values.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.values[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : (this.cumulative[lo - 1] as number) / this.total;
  }

  /** The smallest retained value whose CDF reaches q. */
  quantile(q: number): number {
    if (!this.values.length) return Number.NaN;
    const target = q * this.total;
    let lo = 0;
    let hi = this.values.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cumulative[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return this.values[lo] as number;
  }

  /** The retained values, sorted: the only places where the CDF steps. */
  points(): Float64Array {
    return this.values;
  }
}
