import { HIGHER_IS_BETTER, type MetricName } from '../../contracts/config-gates.js';
import { LIVE_METRICS, type PerformanceThresholds } from '../../contracts/config-operations.js';
import type { DriftResult } from './drift-result.js';

/** The metric name a latency breach is recorded under. */
export const LATENCY_P95 = 'latencyP95Ms';

/**
 * A live threshold a batch broke: `metric` measured `value` on the batch; `reference` is the
 * serving version's evaluation of it (null for latency, which has none); `threshold` is the
 * configured limit (the largest drop allowed, or the largest p95 in ms).
 */
export interface PerformanceBreach {
  metric: MetricName | typeof LATENCY_P95;
  value: number;
  reference: number | null;
  threshold: number;
}

// Metrics are rounded to 4 places (compare.ts): a drop equal to the limit is not over it.
const EPSILON = 1e-9;

/**
 * The model's performance thresholds a checked batch broke, worst first within each kind.
 * Judged only when the batch has at least `minSampleSize` rows (a handful of labelled rows
 * would alert on noise); a metric the batch or the serving version's evaluation lacks is not
 * judged. Independent of distribution drift: a batch with none may still break them.
 */
export function performanceBreaches(
  performance: DriftResult['performance'],
  thresholds: PerformanceThresholds,
  sample: { rows: number; minSampleSize: number },
): PerformanceBreach[] {
  if (sample.rows < sample.minSampleSize) return [];
  const breaches: PerformanceBreach[] = [];
  const { metrics, reference } = performance;
  for (const metric of LIVE_METRICS) {
    const threshold = thresholds.maxDrop[metric];
    const value = metrics?.[metric];
    const ref = reference?.[metric];
    if (threshold === undefined || typeof value !== 'number' || typeof ref !== 'number') continue;
    const drop = HIGHER_IS_BETTER[metric] ? ref - value : value - ref;
    if (drop > threshold + EPSILON) breaches.push({ metric, value, reference: ref, threshold });
  }
  breaches.sort((a, b) => excess(b) - excess(a));
  const p95 = performance.latency?.p95;
  const maxP95 = thresholds.maxLatencyP95Ms;
  if (maxP95 !== undefined && typeof p95 === 'number' && p95 > maxP95) {
    breaches.push({ metric: LATENCY_P95, value: p95, reference: null, threshold: maxP95 });
  }
  return breaches;
}

function excess(b: PerformanceBreach): number {
  if (b.reference === null) return 0;
  const drop = HIGHER_IS_BETTER[b.metric as MetricName] ? b.reference - b.value : b.value - b.reference;
  return drop - b.threshold;
}

/** One line per breach, for alerts and `drift check`: the value, what it is compared with, the limit. */
export function describeBreach(b: PerformanceBreach, model: string): string {
  const key = `models.${model}.monitoring.performance`;
  if (b.metric === LATENCY_P95) {
    return `p95 latency ${fmt(b.value)} ms is over ${key}.maxLatencyP95Ms ${fmt(b.threshold)} ms`;
  }
  const ref = b.reference ?? Number.NaN;
  const worse = HIGHER_IS_BETTER[b.metric as MetricName] ? 'fell' : 'rose';
  return (
    `${b.metric} ${worse} to ${fmt(b.value)} from ${fmt(ref)} at the serving version's evaluation ` +
    `(by ${fmt(Math.abs(ref - b.value))}, more than ${key}.maxDrop.${b.metric} ${fmt(b.threshold)})`
  );
}

const fmt = (n: number) => String(Math.round(n * 10_000) / 10_000);
