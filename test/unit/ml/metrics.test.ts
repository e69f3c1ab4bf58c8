import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METRICS_BY_TASK } from '../../../lambdas/contracts/config-schema.js';
import {
  auc,
  classificationMetrics,
  confusionMatrix,
  LOG_LOSS_EPSILON,
  logLoss,
} from '../../../lambdas/domain/ml/metrics.js';

/** AUC by its definition: over all (positive, negative) pairs, 1 if ordered, ½ if tied. */
function pairwiseAuc(labels: number[], scores: number[]): number {
  let sum = 0;
  let pairs = 0;
  labels.forEach((yi, i) => {
    if (yi !== 1) return;
    labels.forEach((yj, j) => {
      if (yj !== 0) return;
      pairs++;
      const a = scores[i] as number;
      const b = scores[j] as number;
      sum += a > b ? 1 : a === b ? 0.5 : 0;
    });
  });
  return sum / pairs;
}

describe('auc', () => {
  it('matches the textbook example (one mis-ordered pair out of four)', () => {
    expect(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
  });

  it('gives tied scores half credit', () => {
    // Positive 0.5 ties negative 0.5 (½); the other three pairs are ordered: 3.5 / 4.
    expect(auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBeCloseTo(0.875, 12);
    expect(auc([0, 1, 1, 0], [0.3, 0.3, 0.3, 0.3])).toBe(0.5);
  });

  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(auc([0, 0, 1], [0.1, 0.2, 0.9])).toBe(1);
    expect(auc([0, 0, 1], [0.8, 0.7, 0.1])).toBe(0);
  });

  it('equals the pairwise definition on arbitrary data with ties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 6 })), {
          minLength: 2,
          maxLength: 40,
        }),
        (pairs) => {
          const labels = pairs.map(([y]) => y);
          const scores = pairs.map(([, s]) => s / 6);
          fc.pre(labels.includes(0) && labels.includes(1));
          expect(auc(labels, scores)).toBeCloseTo(pairwiseAuc(labels, scores), 12);
        },
      ),
      { seed: 20_240_601, numRuns: 300 },
    );
  });

  it('refuses a single class with an EvaluationError that gives the counts', () => {
    expect(() => auc([1, 1, 1], [0.2, 0.5, 0.9])).toThrow(
      expect.objectContaining({
        name: 'EvaluationError',
        message: expect.stringContaining('3 positive and 0 negative'),
      }),
    );
  });

  it('refuses non-numeric predictions and non-binary labels, naming the row', () => {
    expect(() => auc([0, 1], [0.1, Number.NaN])).toThrow(/prediction #1 is NaN/);
    expect(() => auc([0, 2], [0.1, 0.2])).toThrow(/label #1 is 2/);
    expect(() => auc([0, 1], [0.1])).toThrow(/2 labels but 1 predictions/);
  });
});

describe('logLoss', () => {
  it('is the mean negative log-likelihood', () => {
    const expected = -(Math.log(0.9) + Math.log(0.6) + Math.log(0.35) + Math.log(0.8)) / 4;
    expect(logLoss([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(expected, 12);
  });

  it('clips certainty so a confident mistake costs -ln(ε), not infinity', () => {
    expect(logLoss([0], [1])).toBeCloseTo(-Math.log(LOG_LOSS_EPSILON), 2);
    expect(logLoss([1], [0])).toBeCloseTo(-Math.log(LOG_LOSS_EPSILON), 2);
    expect(logLoss([1, 0], [1, 0])).toBeLessThan(1e-12);
  });
});

describe('classificationMetrics', () => {
  it('computes every binary metric at 0.5, with exactly the METRICS_BY_TASK.binary keys', () => {
    const m = classificationMetrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expect(Object.keys(m).sort()).toEqual([...METRICS_BY_TASK.binary].sort());
    // Predicted [0, 0, 0, 1]: tp 1, fp 0, tn 2, fn 1.
    expect(m.accuracy).toBe(0.75);
    expect(m.precision).toBe(1);
    expect(m.recall).toBe(0.5);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.auc).toBeCloseTo(0.75, 12);
  });

  it('counts a probability equal to the threshold as positive', () => {
    expect(confusionMatrix([1, 0, 0], [0.5, 0.5, 0.49])).toEqual({ tp: 1, fp: 1, tn: 1, fn: 0 });
  });

  it('reports precision, recall and F1 as 0 when nothing is predicted positive', () => {
    const m = classificationMetrics([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4]);
    expect(m).toMatchObject({ precision: 0, recall: 0, f1: 0, accuracy: 0.5 });
    expect(m.auc).toBe(0.75);
  });

  it('refuses an empty evaluation set', () => {
    expect(() => classificationMetrics([], [])).toThrow(/empty/);
  });
});
