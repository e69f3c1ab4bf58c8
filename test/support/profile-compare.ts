import { expect } from 'vitest';
import { KllSketch, rankErrorBound } from '../../lambdas/domain/profile/kll.js';
import type { Profile } from '../../lambdas/domain/profile/profile.js';
import { SketchDistribution } from '../../lambdas/domain/profile/sketch-distribution.js';

/**
 * Two profiles of the same rows made differently (split, merged, in other threads): everything
 * countable equal, moments equal to rounding, and the sketches within two rank-error bounds of
 * each other (a merged sketch is another sample of the same distribution, not the same sample).
 */
export function expectSameProfile(actual: Profile, expected: Profile): void {
  expect(actual.rows).toBe(expected.rows);
  expect(actual.skipped).toEqual(expected.skipped);
  expect(actual.warnings).toEqual(expected.warnings);
  expect(Object.keys(actual.columns)).toEqual(Object.keys(expected.columns));
  for (const [name, e] of Object.entries(expected.columns)) {
    const a = actual.columns[name];
    expect(a?.kind).toBe(e.kind);
    if (e.kind === 'categorical' && a?.kind === 'categorical') {
      expect(a.counts).toEqual(e.counts);
      expect([a.missing, a.other, a.count]).toEqual([e.missing, e.other, e.count]);
    } else if (e.kind === 'numeric' && a?.kind === 'numeric') {
      expect([a.count, a.missing, a.invalid, a.min, a.max]).toEqual([
        e.count,
        e.missing,
        e.invalid,
        e.min,
        e.max,
      ]);
      expect(a.mean).toBeCloseTo(e.mean, 9);
      expect(a.m2 / e.m2).toBeCloseTo(1, 9);
      const da = new SketchDistribution(KllSketch.fromJSON(a.sketch));
      const de = new SketchDistribution(KllSketch.fromJSON(e.sketch));
      for (let q = 0.05; q < 1; q += 0.05) {
        const x = de.quantile(q);
        expect(Math.abs(da.cdf(x) - de.cdf(x))).toBeLessThanOrEqual(2 * rankErrorBound(e.sketch.k));
      }
    }
  }
}
