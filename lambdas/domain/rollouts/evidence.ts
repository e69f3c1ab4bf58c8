import type {
  LatencyHistogram,
  MeanState,
  RateState,
  RolloutEvidence,
  VariantEvidence,
} from '../../contracts/rollout-evidence.js';

/**
 * Mergeable per-variant evidence: every state is a set of counts and sums, and merging adds them
 * key by key, so merge is associative and commutative (exactly for counts, up to floating-point
 * rounding for Σx and Σx²) with the empty state as identity. A batch is aggregated once; the
 * store keeps the merge.
 */

/** A record's own value at a key (never one inherited from Object.prototype, e.g. `constructor`). */
export function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

export const emptyMean = (): MeanState => ({ n: 0, sum: 0, sumSq: 0 });
export const emptyRate = (): RateState => ({ successes: 0, trials: 0 });
export const emptyVariant = (): VariantEvidence => ({ assigned: 0, means: {}, rates: {}, latency: {} });

export function addValue(s: MeanState, x: number): MeanState {
  return { n: s.n + 1, sum: s.sum + x, sumSq: s.sumSq + x * x };
}

export function addOutcome(s: RateState, success: boolean): RateState {
  return { successes: s.successes + (success ? 1 : 0), trials: s.trials + 1 };
}

export function mergeMean(a: MeanState, b: MeanState): MeanState {
  return { n: a.n + b.n, sum: a.sum + b.sum, sumSq: a.sumSq + b.sumSq };
}

export function mergeRate(a: RateState, b: RateState): RateState {
  return { successes: a.successes + b.successes, trials: a.trials + b.trials };
}

export function meanOf(s: MeanState): number {
  return s.n ? s.sum / s.n : 0;
}

/** Unbiased sample variance (0 below two values; never negative after rounding). */
export function varianceOf(s: MeanState): number {
  if (s.n < 2) return 0;
  return Math.max(0, (s.sumSq - (s.sum * s.sum) / s.n) / (s.n - 1));
}

export function rateOf(s: RateState): number {
  return s.trials ? s.successes / s.trials : 0;
}

// Latency histogram: bucket 0 holds [0, 0.01 ms); bucket k ≥ 1 holds [0.01·2^((k−1)/16), 0.01·2^(k/16)) ms;
// the last bucket also holds everything above (0.01·2^32 ms ≈ 12 h).
const LATENCY_FLOOR_MS = 0.01;
const PER_DOUBLING = 16;
export const LATENCY_LAST_BUCKET = 32 * PER_DOUBLING + 1;

export function latencyBucket(ms: number): number {
  if (!(ms >= LATENCY_FLOOR_MS)) return 0;
  return Math.min(LATENCY_LAST_BUCKET, Math.floor(PER_DOUBLING * Math.log2(ms / LATENCY_FLOOR_MS)) + 1);
}

/** [lower, upper) of a bucket in ms. */
export function latencyBucketBounds(k: number): [number, number] {
  if (k <= 0) return [0, LATENCY_FLOOR_MS];
  const upper =
    k >= LATENCY_LAST_BUCKET ? Number.POSITIVE_INFINITY : LATENCY_FLOOR_MS * 2 ** (k / PER_DOUBLING);
  return [LATENCY_FLOOR_MS * 2 ** ((k - 1) / PER_DOUBLING), upper];
}

export function addLatency(h: LatencyHistogram, ms: number): LatencyHistogram {
  const k = String(latencyBucket(ms));
  return { ...h, [k]: (h[k] ?? 0) + 1 };
}

/**
 * Key-wise merge. Keys are data (variant names come from batches): built through a Map and
 * Object.fromEntries so a key such as `__proto__` stays an own property, never a prototype.
 */
function mergeRecords<T>(
  a: Record<string, T>,
  b: Record<string, T>,
  merge: (x: T, y: T) => T,
): Record<string, T> {
  const out = new Map<string, T>(Object.entries(a));
  for (const [k, v] of Object.entries(b)) {
    const prior = out.get(k);
    out.set(k, prior === undefined ? v : merge(prior, v));
  }
  return Object.fromEntries(out);
}

export function mergeHistograms(a: LatencyHistogram, b: LatencyHistogram): LatencyHistogram {
  return mergeRecords(a, b, (x, y) => x + y);
}

export function histogramCount(h: LatencyHistogram): number {
  return Object.values(h).reduce((s, c) => s + c, 0);
}

/**
 * The q-quantile (nearest rank) as its bucket's geometric midpoint: within 2^(1/32) − 1 ≈ 2.2 %
 * of a value in that bucket. Undefined for an empty histogram.
 */
export function histogramQuantile(h: LatencyHistogram, q: number): number | undefined {
  const total = histogramCount(h);
  if (!total) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const k of Object.keys(h)
    .map(Number)
    .sort((x, y) => x - y)) {
    seen += h[String(k)] ?? 0;
    if (seen >= rank) {
      const [lo, hi] = latencyBucketBounds(k);
      if (k === 0) return lo + hi / 2;
      return Number.isFinite(hi) ? Math.sqrt(lo * hi) : lo;
    }
  }
  return undefined;
}

/** Values surely above `ms` (in buckets starting at or above it), out of all. */
export function countAbove(h: LatencyHistogram, ms: number): { above: number; total: number } {
  let above = 0;
  for (const [k, c] of Object.entries(h)) if (latencyBucketBounds(Number(k))[0] >= ms) above += c;
  return { above, total: histogramCount(h) };
}

export function mergeVariant(a: VariantEvidence, b: VariantEvidence): VariantEvidence {
  return {
    assigned: a.assigned + b.assigned,
    means: mergeRecords(a.means, b.means, mergeMean),
    rates: mergeRecords(a.rates, b.rates, mergeRate),
    latency: mergeHistograms(a.latency, b.latency),
  };
}

export function mergeEvidence(a: RolloutEvidence, b: RolloutEvidence): RolloutEvidence {
  return { steps: mergeRecords(a.steps, b.steps, (x, y) => mergeRecords(x, y, mergeVariant)) };
}

export const emptyEvidence = (): RolloutEvidence => ({ steps: {} });

/** One variant's evidence over all ramp steps (for absolute guardrails and display). */
export function variantTotal(e: RolloutEvidence, variant: string): VariantEvidence {
  let total = emptyVariant();
  for (const step of Object.values(e.steps)) {
    const v = own(step, variant);
    if (v) total = mergeVariant(total, v);
  }
  return total;
}
