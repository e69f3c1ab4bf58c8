import { describe, expect, it } from 'vitest';
import { performanceThresholdsSchema } from '../../../lambdas/contracts/config-operations.js';
import type { DriftResult } from '../../../lambdas/domain/drift/drift-result.js';
import {
  describeBreach,
  LATENCY_P95,
  performanceBreaches,
} from '../../../lambdas/domain/drift/performance-breach.js';

const REFERENCE = { auc: 0.81, accuracy: 0.76, precision: 0.64, recall: 0.58, f1: 0.61, logLoss: 0.47 };
const perf = (
  metrics: Partial<typeof REFERENCE> | null,
  latency: DriftResult['performance']['latency'] = null,
): DriftResult['performance'] => ({
  metrics: metrics ? { ...REFERENCE, ...metrics } : null,
  reference: REFERENCE,
  change: null,
  latency,
});
const thresholds = performanceThresholdsSchema.parse({
  maxDrop: { auc: 0.05, accuracy: 0.05, logLoss: 0.1 },
  maxLatencyP95Ms: 250,
});
const enough = { rows: 500, minSampleSize: 200 };

describe('performanceBreaches', () => {
  it('flags a metric that fell more than its maxDrop below the evaluation, worst first', () => {
    expect(performanceBreaches(perf({ accuracy: 0.7, auc: 0.7 }), thresholds, enough)).toEqual([
      { metric: 'auc', value: 0.7, reference: 0.81, threshold: 0.05 },
      { metric: 'accuracy', value: 0.7, reference: 0.76, threshold: 0.05 },
    ]);
  });

  it('flags logLoss when it rose by more than allowed (lower is better)', () => {
    expect(performanceBreaches(perf({ logLoss: 0.6 }), thresholds, enough)).toEqual([
      { metric: 'logLoss', value: 0.6, reference: 0.47, threshold: 0.1 },
    ]);
    // A logLoss that fell is better, never a breach.
    expect(performanceBreaches(perf({ logLoss: 0.2 }), thresholds, enough)).toEqual([]);
  });

  it('a drop at the limit, an improvement, or a metric without a threshold is no breach', () => {
    expect(
      performanceBreaches(perf({ accuracy: 0.71, auc: 0.9, precision: 0.1 }), thresholds, enough),
    ).toEqual([]);
  });

  it('flags a p95 latency over maxLatencyP95Ms, with no reference', () => {
    expect(performanceBreaches(perf(null, { p50: 80, p95: 310, p99: 500 }), thresholds, enough)).toEqual([
      { metric: LATENCY_P95, value: 310, reference: null, threshold: 250 },
    ]);
    expect(performanceBreaches(perf(null, { p50: 80, p95: 250, p99: 500 }), thresholds, enough)).toEqual([]);
  });

  it('judges nothing on a batch under minSampleSize rows, without thresholds, or without a reference', () => {
    const bad = perf({ accuracy: 0.2 }, { p50: 1, p95: 9999, p99: 9999 });
    expect(performanceBreaches(bad, thresholds, { rows: 199, minSampleSize: 200 })).toEqual([]);
    expect(performanceBreaches(bad, performanceThresholdsSchema.parse({}), enough)).toEqual([]);
    expect(
      performanceBreaches({ ...bad, reference: null }, { ...thresholds, maxLatencyP95Ms: undefined }, enough),
    ).toEqual([]);
  });

  it('describes each breach in one line naming value, reference and the config key', () => {
    const [metric] = performanceBreaches(perf({ accuracy: 0.7 }), thresholds, enough);
    expect(describeBreach(metric ?? ({} as never), 'churn')).toBe(
      "accuracy fell to 0.7 from 0.76 at the serving version's evaluation (by 0.06, more than models.churn.monitoring.performance.maxDrop.accuracy 0.05)",
    );
    expect(
      describeBreach({ metric: LATENCY_P95, value: 310, reference: null, threshold: 250 }, 'churn'),
    ).toBe('p95 latency 310 ms is over models.churn.monitoring.performance.maxLatencyP95Ms 250 ms');
  });
});

describe('models.<m>.monitoring.performance in the config', () => {
  it('refuses a metric live batches do not measure, and a negative drop, by name', () => {
    expect(performanceThresholdsSchema.safeParse({ maxDrop: { rmse: 1 } }).success).toBe(false);
    expect(performanceThresholdsSchema.safeParse({ maxDrop: { auc: -0.1 } }).success).toBe(false);
    expect(performanceThresholdsSchema.safeParse({ maxLatencyP95Ms: 0 }).success).toBe(false);
  });
});
