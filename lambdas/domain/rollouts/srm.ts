import { chiSquareSurvival } from '../drift/chi-square.js';

/**
 * Sample-ratio mismatch: are the players each variant received consistent with its weight?
 * Pearson's χ² of assignment counts against the weights, summed over ramp steps (each step has
 * its own weights; degrees of freedom add). A variant with weight 0 that received players, or a
 * variant the rollout does not have, is a mismatch outright. A mismatch means the assignment or
 * the logging is broken (a crash that loses the canary's events, a client that caches an old
 * manifest, a bot filter that hits one arm): no comparison of the arms can be trusted.
 */
export interface SrmStep {
  /** Basis points by variant name, from the rollout record (server side). */
  weights: Record<string, number>;
  /** Players assigned by variant name, from the evidence. */
  counts: Record<string, number>;
}

export interface SrmResult {
  statistic: number;
  df: number;
  pValue: number;
  /** Observed and expected counts by step and variant, for the page. */
  cells: { step: string; variant: string; observed: number; expected: number }[];
  /** Counts in variants with no weight (or unknown to the rollout): a mismatch whatever the χ². */
  impossible: number;
}

export function sampleRatioMismatch(steps: Record<string, SrmStep>): SrmResult {
  let statistic = 0;
  let df = 0;
  let impossible = 0;
  const cells: SrmResult['cells'] = [];
  for (const [step, { weights, counts }] of Object.entries(steps)) {
    const total = Object.values(counts).reduce((s, c) => s + c, 0);
    if (!total) continue;
    const names = new Set([...Object.keys(weights), ...Object.keys(counts)]);
    const weightTotal = Object.values(weights).reduce((s, w) => s + w, 0);
    let live = 0;
    for (const variant of names) {
      const observed = Object.hasOwn(counts, variant) ? (counts[variant] ?? 0) : 0;
      const w = Object.hasOwn(weights, variant) ? (weights[variant] ?? 0) : 0;
      const expected = weightTotal > 0 ? (total * w) / weightTotal : 0;
      cells.push({ step, variant, observed, expected });
      if (expected > 0) {
        live++;
        statistic += (observed - expected) ** 2 / expected;
      } else impossible += observed;
    }
    df += Math.max(0, live - 1);
  }
  const pValue = impossible > 0 ? 0 : chiSquareSurvival(statistic, df);
  return { statistic, df, pValue, cells, impossible };
}
