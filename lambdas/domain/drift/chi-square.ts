/**
 * χ² helpers for the categorical decision: the homogeneity test's p-value (reported) and the
 * upper quantile the Jensen–Shannon noise margin is built on. No I/O, no dependencies.
 */

/** ln Γ(x) (Lanczos, g = 7, 9 terms): ample for p-values. */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0] as number;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Q(a, x) = Γ(a, x)/Γ(a), the regularized upper incomplete gamma (series or continued fraction). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lead = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 500; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lead));
  }
  // Lentz's continued fraction for Q.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(lead) * h);
}

/** P(χ²_df > x). */
export function chiSquareSurvival(x: number, df: number): number {
  if (df <= 0) return 1;
  return gammaQ(df / 2, x / 2);
}

/**
 * The upper-tail quantile of χ²_df for a standard-normal quantile z (Wilson–Hilferty: within a
 * few percent for df ≥ 1 at the tail probabilities used here).
 */
export function chiSquareQuantile(df: number, z: number): number {
  if (df <= 0) return 0;
  const h = 2 / (9 * df);
  return df * Math.max(0, 1 - h + z * Math.sqrt(h)) ** 3;
}

/**
 * Pearson's χ² test of homogeneity on two count vectors over the same categories (categories
 * empty in both are dropped). Returns the statistic, its degrees of freedom and the p-value.
 */
export function chiSquareHomogeneity(
  a: readonly number[],
  b: readonly number[],
): { statistic: number; df: number; pValue: number } {
  const n = a.reduce((s, v) => s + v, 0);
  const m = b.reduce((s, v) => s + v, 0);
  if (!n || !m) return { statistic: 0, df: 0, pValue: 1 };
  let statistic = 0;
  let cells = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    const total = x + y;
    if (!total) continue;
    cells++;
    const ex = (total * n) / (n + m);
    const ey = (total * m) / (n + m);
    statistic += (x - ex) ** 2 / ex + (y - ey) ** 2 / ey;
  }
  const df = Math.max(0, cells - 1);
  return { statistic, df, pValue: chiSquareSurvival(statistic, df) };
}
