import type { SketchDistribution } from '../profile/sketch-distribution.js';

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
  return Math.max(0, d - 1.8 * Math.sqrt((n + m) / (n * m)));
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
