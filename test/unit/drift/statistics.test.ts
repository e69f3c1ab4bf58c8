import { describe, expect, it } from 'vitest';
import {
  binShares,
  decileEdges,
  jensenShannon,
  kolmogorovSurvival,
  ksDistance,
  ksPValue,
  missingRateNoiseMargin,
  psi,
  wasserstein,
} from '../../../lambdas/domain/drift/statistics.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { DEFAULT_SKETCH_K, KllSketch } from '../../../lambdas/domain/profile/kll.js';
import { SketchDistribution } from '../../../lambdas/domain/profile/sketch-distribution.js';

/** The exact two-sample KS statistic sup|F_a − F_b| over sorted samples (ties handled). */
function exactKs(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const x = Math.min(a[i] as number, b[j] as number);
    while (i < a.length && (a[i] as number) <= x) i++;
    while (j < b.length && (b[j] as number) <= x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

type Gen = (r: Random) => number;
function draw(gen: Gen, n: number, seed: number): { sorted: Float64Array; dist: SketchDistribution } {
  const rng = new Random(seed);
  const values = new Float64Array(n);
  const sketch = new KllSketch(DEFAULT_SKETCH_K, seed);
  for (let i = 0; i < n; i++) {
    const x = gen(rng);
    values[i] = x;
    sketch.update(x);
  }
  return { sorted: values.sort(), dist: new SketchDistribution(sketch) };
}

const normal =
  (mean: number, sd: number): Gen =>
  (r) =>
    r.normal(mean, sd);

// [name, baseline, batch, n, m]: several families and shifts, 10^3 to 10^6 rows
const ksCases: [string, Gen, Gen, number, number][] = [
  ['normal, no shift, 10^3', normal(0, 1), normal(0, 1), 1_000, 1_000],
  ['normal, 0.5σ shift, 10^3 vs 2·10^3', normal(0, 1), normal(0.5, 1), 1_000, 2_000],
  ['normal, 0.1σ shift, 10^4', normal(10, 2), normal(10.2, 2), 10_000, 10_000],
  ['normal, variance ×1.5, 10^5', normal(0, 1), normal(0, 1.5), 100_000, 100_000],
  [
    'lognormal, scale shift, 10^5 vs 3·10^4',
    (r) => r.logNormal(3, 0.6),
    (r) => r.logNormal(3.2, 0.6),
    100_000,
    30_000,
  ],
  [
    'exponential vs exponential, mean ×1.3, 5·10^4',
    (r) => r.exponential(40),
    (r) => r.exponential(52),
    50_000,
    50_000,
  ],
  ['uniform vs normal (shape change), 2·10^4', (r) => r.next() * 10, normal(5, 2.5), 20_000, 20_000],
  [
    'discrete with ties, shifted mix, 10^5',
    (r) => Math.floor(r.next() * 8),
    (r) => Math.floor(r.next() ** 1.3 * 8),
    100_000,
    100_000,
  ],
  [
    'bimodal vs unimodal, 10^5',
    (r) => (r.next() < 0.5 ? r.normal(-2, 1) : r.normal(2, 1)),
    normal(0, 2.2),
    100_000,
    100_000,
  ],
  ['normal, 0.02σ shift, 10^6', normal(0, 1), normal(0.02, 1), 1_000_000, 1_000_000],
];

describe('KS distance from sketches vs the exact two-sample statistic', () => {
  for (const [name, ga, gb, n, m] of ksCases) {
    it(`${name}: |error| ≤ 0.01`, () => {
      const a = draw(ga, n, n + 1);
      const b = draw(gb, m, m + 2);
      const exact = exactKs(a.sorted, b.sorted);
      const sketched = ksDistance(a.dist, b.dist);
      expect(Math.abs(sketched - exact)).toBeLessThanOrEqual(0.01);
    });
  }
});

/** Reference PSI: Σ (a−e)·ln(a/e) with shares floored at 1e-4, written out long-hand. */
function referencePsi(expected: number[], actual: number[]): number {
  return expected.reduce((sum, e0, i) => {
    const e = Math.max(1e-4, e0);
    const a0 = actual[i] ?? 0;
    const a = Math.max(1e-4, a0);
    return sum + (a - e) * (Math.log(a) - Math.log(e));
  }, 0);
}

/** Reference JS distance: √(H(M) − (H(P)+H(Q))/2) in bits. */
function referenceJs(p: number[], q: number[]): number {
  const h = (xs: number[]) => -xs.reduce((s, x) => (x > 0 ? s + x * Math.log2(x) : s), 0);
  const mix = p.map((x, i) => (x + (q[i] ?? 0)) / 2);
  return Math.sqrt(Math.max(0, h(mix) - (h(p) + h(q)) / 2));
}

/** Exact shares of a sorted sample in bins (−∞, e1], (e1, e2], …, (ek, ∞). */
function exactShares(sorted: Float64Array, edges: number[]): number[] {
  const counts = new Array(edges.length + 1).fill(0);
  for (const x of sorted) {
    let b = 0;
    while (b < edges.length && x > (edges[b] as number)) b++;
    counts[b]++;
  }
  return counts.map((c) => c / sorted.length);
}

describe('PSI, Jensen–Shannon and Wasserstein against reference implementations', () => {
  it('categorical PSI and JS equal the references exactly (counts are exact)', () => {
    const rng = new Random(4);
    for (let t = 0; t < 50; t++) {
      const size = 2 + Math.floor(rng.next() * 10);
      const raw = () => Array.from({ length: size }, () => (rng.next() < 0.15 ? 0 : rng.next()));
      const norm = (xs: number[]) => {
        const s = xs.reduce((a, b) => a + b, 0) || 1;
        return xs.map((x) => x / s);
      };
      const p = norm(raw());
      const q = norm(raw());
      expect(psi(p, q)).toBeCloseTo(referencePsi(p, q), 10);
      expect(jensenShannon(p, q)).toBeCloseTo(referenceJs(p, q), 10);
    }
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(1, 12);
    expect(jensenShannon([0.3, 0.7], [0.3, 0.7])).toBe(0);
    expect(psi([0.5, 0.5], [0.5, 0.5])).toBe(0);
  });

  it('numeric PSI on baseline deciles and Wasserstein/σ from sketches match exact computations', () => {
    const cases: [Gen, Gen][] = [
      [normal(0, 1), normal(0, 1)],
      [normal(0, 1), normal(0.3, 1)],
      [(r) => r.logNormal(2, 0.5), (r) => r.logNormal(2.4, 0.7)],
      [(r) => r.exponential(10), (r) => r.next() * 30],
    ];
    cases.forEach(([ga, gb], i) => {
      const a = draw(ga, 200_000, 10 + i);
      const b = draw(gb, 150_000, 20 + i);
      // exact deciles and shares
      const exactEdges = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(
        (d) => a.sorted[Math.ceil((d / 10) * a.sorted.length) - 1] as number,
      );
      const exactPsi = referencePsi(exactShares(a.sorted, exactEdges), exactShares(b.sorted, exactEdges));
      const edges = decileEdges(a.dist);
      const sketchedPsi = psi(binShares(a.dist, edges), binShares(b.dist, edges));
      expect(Math.abs(sketchedPsi - exactPsi)).toBeLessThanOrEqual(0.01 + 0.05 * exactPsi);
      // exact W1 = ∫|F⁻¹_a − F⁻¹_b| on the same 200-point quantile grid
      let w = 0;
      for (let s = 0; s < 200; s++) {
        const q = (s + 0.5) / 200;
        w += Math.abs(
          (a.sorted[Math.floor(q * a.sorted.length)] as number) -
            (b.sorted[Math.floor(q * b.sorted.length)] as number),
        );
      }
      w /= 200;
      const sd = Math.sqrt(
        a.sorted.reduce((s, x) => s + x * x, 0) / a.sorted.length -
          (a.sorted.reduce((s, x) => s + x, 0) / a.sorted.length) ** 2,
      );
      expect(Math.abs(wasserstein(a.dist, b.dist) - w) / sd).toBeLessThanOrEqual(0.01);
    });
  });
});

describe('KS p-value', () => {
  it('matches known values of the Kolmogorov distribution and is monotone in D', () => {
    // P(K > 1.36/√n_eff) ≈ 0.05 and P(K > 1.63/√n_eff) ≈ 0.01 for large samples
    const n = 1_000_000;
    const ne = n / 2;
    expect(ksPValue(1.36 / Math.sqrt(ne), n, n)).toBeCloseTo(0.049, 2);
    expect(ksPValue(1.63 / Math.sqrt(ne), n, n)).toBeCloseTo(0.01, 2);
    expect(ksPValue(0, n, n)).toBe(1);
    expect(ksPValue(0.05, 1000, 1000)).toBeGreaterThan(ksPValue(0.08, 1000, 1000));
  });
});

describe('Kolmogorov survival function', () => {
  it('is continuous where the two series meet and matches tabulated values', () => {
    // tabulated: Q(0.5)=0.9639, Q(1.0)=0.2700, Q(1.36)=0.0494, Q(2.0)=0.00067
    expect(kolmogorovSurvival(0.5)).toBeCloseTo(0.9639, 3);
    expect(kolmogorovSurvival(1.0)).toBeCloseTo(0.27, 3);
    expect(kolmogorovSurvival(1.36)).toBeCloseTo(0.0494, 3);
    expect(kolmogorovSurvival(2.0)).toBeCloseTo(0.00067, 4);
    expect(Math.abs(kolmogorovSurvival(1.18 - 1e-9) - kolmogorovSurvival(1.18 + 1e-9))).toBeLessThan(1e-7);
    expect(kolmogorovSurvival(0.05)).toBeCloseTo(1, 10);
    expect(kolmogorovSurvival(8)).toBeGreaterThan(0);
    expect(kolmogorovSurvival(8)).toBeLessThan(1e-50);
  });

  it('the missing-rate noise margin is 3 pooled standard errors of a difference of proportions', () => {
    // 5 % on both sides: 3·√(0.05·0.95·(2/1000)) ≈ 0.029 at 1k rows, ≈ 0.003 at 100k
    expect(missingRateNoiseMargin(0.05, 1000, 0.05, 1000)).toBeCloseTo(0.02924, 4);
    expect(missingRateNoiseMargin(0.05, 100_000, 0.05, 100_000)).toBeCloseTo(0.002924, 5);
    // pooled on all rows: 5 % of 10,000 and 20 % of 10,000 ⇒ 12.5 %
    expect(missingRateNoiseMargin(0.05, 10_000, 0.2, 10_000)).toBeCloseTo(
      3 * Math.sqrt(0.125 * 0.875 * (2 / 10_000)),
      10,
    );
    // nothing missing anywhere: no noise; no rows on a side: nothing can be judged
    expect(missingRateNoiseMargin(0, 500, 0, 500)).toBe(0);
    expect(missingRateNoiseMargin(0.1, 0, 0.1, 500)).toBe(1);
  });
});
