import type { SketchDistribution } from '../profile/sketch-distribution.js';
import { chiSquareQuantile } from './chi-square.js';

/** Two-sample KS distance D = sup |F_a − F_b|, evaluated at every point either sketch holds. */
export function ksDistance(a: SketchDistribution, b: SketchDistribution): number {
  let d = 0;
  for (const points of [a.points(), b.points()]) {
    for (const x of points) {
      const diff = Math.abs(a.cdf(x) - b.cdf(x));
      if (diff > d) d = diff;
    }
  }
  return d;
}

/**
 * Asymptotic two-sided KS p-value (Kolmogorov distribution with n_eff = nm/(n+m)). Reported for
 * context only: at 10^6 rows a shift nobody cares about has p ≈ 0.
 */
export function ksPValue(d: number, n: number, m: number): number {
  if (!n || !m || !(d > 0)) return 1;
  const ne = (n * m) / (n + m);
  const lambda = (Math.sqrt(ne) + 0.12 + 0.11 / Math.sqrt(ne)) * d;
  return kolmogorovSurvival(lambda);
}

/**
 * Q(λ) = P(K > λ) of the Kolmogorov distribution: the alternating series converges fast for
 * large λ; for small λ (where it does not) the Jacobi-theta form of P(K ≤ λ) is used instead.
 */
export function kolmogorovSurvival(lambda: number): number {
  if (lambda <= 0) return 1;
  if (lambda < 1.18) {
    const y = (Math.PI * Math.PI) / (8 * lambda * lambda);
    let cdf = 0;
    for (let j = 1; j <= 20; j += 2) cdf += Math.exp(-j * j * y);
    cdf *= Math.sqrt(2 * Math.PI) / lambda;
    return Math.min(1, Math.max(0, 1 - cdf));
  }
  let sum = 0;
  for (let j = 1; j <= 100; j++) {
    const term = 2 * (-1) ** (j - 1) * Math.exp(-2 * j * j * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-300 || Math.abs(term) < sum * 1e-16) break;
  }
  return Math.min(1, Math.max(0, sum));
}

/**
 * KS distance less the sampling noise expected at these sizes (Deequ's rule, as SageMaker Model
 * Monitor applies it): max(0, D − 1.8·√((n+m)/(nm))). Small samples no longer cry wolf, large
 * ones still show a real shift at its size.
 */
export function ksBeyondNoise(d: number, n: number, m: number): number {
  if (!n || !m) return 0;
  return Math.max(0, d - ksNoiseMargin(n, m));
}

/** The KS noise margin 1.8·√((n+m)/(nm)): P(D > margin) ≈ 0.003 for two same-law samples. */
export function ksNoiseMargin(n: number, m: number): number {
  return n && m ? 1.8 * Math.sqrt((n + m) / (n * m)) : 1;
}

/**
 * J = ∫ √(F(x)(1 − F(x))) dx over the sketch's CDF. Under no drift √(nm/(n+m))·W₁ tends to
 * ∫|B(F(x))| dx (B a Brownian bridge), whose mean is √(2/π)·J: J is the scale of Wasserstein
 * noise, and it grows with the tails (it is infinite without a little more than two moments).
 */
export function wassersteinNoiseScale(dist: SketchDistribution): number {
  const xs = dist.points();
  let total = 0;
  for (let i = 0; i + 1 < xs.length; i++) {
    const f = dist.cdf(xs[i] as number);
    total += ((xs[i + 1] as number) - (xs[i] as number)) * Math.sqrt(f * (1 - f));
  }
  return total;
}

/** Multiple of J·√(1/n + 1/m) that same-law samples exceed rarely (≪ 1 %; see docs/monitoring.md). */
export const WASSERSTEIN_NOISE_MULTIPLE = 3;

/** The Wasserstein/σ noise margin: 3·(J/σ)·√(1/n + 1/m). */
export function wassersteinNoiseMargin(jOverSigma: number, n: number, m: number): number {
  return n && m ? WASSERSTEIN_NOISE_MULTIPLE * jOverSigma * Math.sqrt(1 / n + 1 / m) : 1;
}

/** Standard errors a change in missing rate must exceed before it counts (P ≈ 0.003 by chance). */
export const MISSING_RATE_NOISE_SIGMAS = 3;

/**
 * The change in missing rate two samples of one law reach by chance: 3 standard errors of the
 * difference of two proportions on the pooled rate, 3·√(p̂(1 − p̂)(1/n + 1/m)), p̂ the share
 * missing of all n + m rows. 5 % missing on both sides is 0.029 apart at 1,000 vs 1,000 rows by
 * chance alone, 0.003 at 100,000; 50 % missing at 200 rows, 0.15.
 */
export function missingRateNoiseMargin(baseRate: number, n: number, batchRate: number, m: number): number {
  if (!n || !m) return 1;
  const pooled = (baseRate * n + batchRate * m) / (n + m);
  return MISSING_RATE_NOISE_SIGMAS * Math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m));
}

/** z for a one-sided tail of 0.001 (the χ² quantile behind the Jensen–Shannon noise margin). */
const Z_999 = 3.0902;

/**
 * The Jensen–Shannon distance two samples of one categorical law reach by chance (99.9th
 * percentile). For small differences JS divergence (bits) ≈ X²/(8·ln 2·n_eff), X² Pearson's
 * homogeneity statistic (≈ χ² with k − 1 degrees of freedom under no drift), n_eff = nm/(n+m).
 * So the margin is √(χ²_{k−1, 0.999}/(8·ln 2·n_eff)); its expectation √((k−1)/(8·ln 2·n_eff))
 * is 0.09 for 40 categories at 2,000 vs 1,500 rows.
 */
export function jensenShannonNoiseMargin(categories: number, n: number, m: number): number {
  if (!n || !m) return 1;
  if (categories < 2) return 0;
  const ne = (n * m) / (n + m);
  return Math.sqrt(chiSquareQuantile(categories - 1, Z_999) / (8 * Math.LN2 * ne));
}

const EPS = 1e-4;

/** Population Stability Index between two discrete distributions (same bins). */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(EPS, expected[i] as number);
    const a = Math.max(EPS, actual[i] as number);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

/** Bin shares of a numeric distribution on the baseline's decile edges. */
export function binShares(dist: SketchDistribution, edges: readonly number[]): number[] {
  const shares: number[] = [];
  let previous = 0;
  for (const edge of edges) {
    const f = dist.cdf(edge);
    shares.push(f - previous);
    previous = f;
  }
  shares.push(1 - previous);
  return shares;
}

/** Interior decile edges of the baseline (distinct, so bins are never empty by construction). */
export function decileEdges(baseline: SketchDistribution): number[] {
  const edges: number[] = [];
  for (let q = 1; q < 10; q++) {
    const e = baseline.quantile(q / 10);
    if (!edges.length || e > (edges[edges.length - 1] as number)) edges.push(e);
  }
  return edges;
}

/** Wasserstein-1 distance (area between quantile functions), on a 200-point grid. */
export function wasserstein(a: SketchDistribution, b: SketchDistribution): number {
  const steps = 200;
  let total = 0;
  for (let i = 0; i < steps; i++) {
    const q = (i + 0.5) / steps;
    total += Math.abs(a.quantile(q) - b.quantile(q));
  }
  return total / steps;
}

/** Jensen–Shannon distance (square root of the divergence, log base 2): 0 same, 1 disjoint. */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] as number;
    const b = q[i] as number;
    const m = (a + b) / 2;
    if (a > 0) divergence += 0.5 * a * Math.log2(a / m);
    if (b > 0) divergence += 0.5 * b * Math.log2(b / m);
  }
  return Math.sqrt(Math.max(0, divergence));
}
