import { describe, expect, it } from 'vitest';
import { Random } from '../../lambdas/domain/ml/random.js';
import { KllSketch, SketchDistribution } from '../../lambdas/domain/profile/kll.js';

function exactRank(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo / sorted.length;
}

describe('KLL sketch', () => {
  it('keeps rank error within the documented bound (k=400 ≈ 0.9 % at 99 %)', () => {
    const rng = new Random(5);
    const n = 200_000;
    const data = new Float64Array(n);
    const sketch = new KllSketch(400, 9);
    for (let i = 0; i < n; i++) {
      data[i] = rng.normal(10, 3) ** 2;
      sketch.update(data[i] as number);
    }
    const sorted = Float64Array.from(data).sort();
    const dist = new SketchDistribution(sketch);
    let worst = 0;
    for (let q = 0.01; q < 1; q += 0.01) {
      const x = sorted[Math.floor(q * n)] as number;
      worst = Math.max(worst, Math.abs(dist.cdf(x) - exactRank(sorted, x)));
    }
    expect(worst).toBeLessThan(0.012);
    expect(sketch.toJSON().levels.flat().length).toBeLessThan(2000);
  });

  it('merges: two halves give the same distribution as one stream, within the bound', () => {
    const rng = new Random(7);
    const all = new KllSketch(400, 1);
    const a = new KllSketch(400, 2);
    const b = new KllSketch(400, 3);
    for (let i = 0; i < 100_000; i++) {
      const x = rng.next() * 100;
      all.update(x);
      (i % 2 ? a : b).update(x);
    }
    a.merge(b);
    expect(a.n).toBe(100_000);
    const da = new SketchDistribution(a);
    const dAll = new SketchDistribution(all);
    for (const x of [5, 25, 50, 75, 95]) expect(Math.abs(da.cdf(x) - dAll.cdf(x))).toBeLessThan(0.02);
  });

  it('round-trips through JSON', () => {
    const s = new KllSketch(200, 4);
    for (let i = 0; i < 10_000; i++) s.update(i);
    const back = KllSketch.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    expect(new SketchDistribution(back).quantile(0.5)).toBe(new SketchDistribution(s).quantile(0.5));
    expect(back.min).toBe(0);
    expect(back.max).toBe(9999);
  });
});
