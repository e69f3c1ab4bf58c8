import { describe, expect, it } from 'vitest';
import { Random } from '../../../lambdas/domain/ml/random.js';

function moments(draw: () => number, n = 40_000): { mean: number; variance: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    sum += x;
    sumSq += x * x;
  }
  const mean = sum / n;
  return { mean, variance: sumSq / n - mean * mean };
}

describe('Random', () => {
  it('repeats its sequence for a seed and differs across seeds', () => {
    const a = new Random(9);
    const b = new Random(9);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(new Random(10).next()).not.toBe(seqA[0]);
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true);
  });

  it('draws from the stated distributions (seeded, so the sample moments are fixed)', () => {
    const rng = new Random(1234);
    const normal = moments(() => rng.normal(3, 2));
    expect(normal.mean).toBeCloseTo(3, 1);
    expect(normal.variance).toBeCloseTo(4, 0);
    const poisson = moments(() => rng.poisson(6));
    expect(poisson.mean).toBeCloseTo(6, 1);
    expect(poisson.variance).toBeCloseTo(6, 0);
    const gamma = moments(() => rng.gamma(2, 3));
    expect(gamma.mean).toBeCloseTo(6, 0);
    expect(gamma.variance / 18).toBeGreaterThan(0.93);
    expect(gamma.variance / 18).toBeLessThan(1.07);
    // Gamma–Poisson mixture: variance = mean + mean² / dispersion = 6 + 9 = 15.
    const nb = moments(() => rng.negativeBinomial(6, 4));
    expect(nb.mean).toBeCloseTo(6, 1);
    expect(nb.variance / 15).toBeGreaterThan(0.93);
    expect(nb.variance / 15).toBeLessThan(1.07);
    expect(moments(() => rng.exponential(4)).mean).toBeCloseTo(4, 1);
    expect(moments(() => Math.log(rng.logNormal(3, 0.5))).mean).toBeCloseTo(3, 1);
    expect(moments(() => rng.gamma(0.5)).mean).toBeCloseTo(0.5, 1);
  });

  it('chooses by weight and shuffles to a permutation', () => {
    const rng = new Random(5);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) {
      const k = rng.choice([1, 0, 3]);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(counts[1]).toBe(0);
    expect((counts[2] ?? 0) / 30_000).toBeCloseTo(0.75, 1);
    const shuffled = rng.shuffle([1, 2, 3, 4, 5, 6]);
    expect([...shuffled].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
