import { Random } from '../../lambdas/domain/ml/random.js';
import { GENERATING_MODEL as CHURN } from './churn.js';
import { tableCsv, writeTableCsv } from './csv-table.js';
import {
  drawPlayer,
  PLAYER_FEATURE_COLUMNS,
  type PlayerFeatures,
  type PlayerTableOptions,
  playerId,
  validatePlayerTableOptions,
} from './players.js';

/**
 * A seeded player lifetime-value table: a regression target for the LTV model (90-day revenue
 * of a player), with the churn table's kind of columns and a player_id key (exclude it).
 *
 * Generating model, so a trained model can be checked against the truth:
 *   features as players.ts (the churn table's columns plus spend_30d)
 *   p_churn      = sigmoid(the churn table's logit, without its noise)        (churn.ts)
 *   value_90d    = 2.5 · spend_30d + 0.25 · sessions_per_week · minutes / 20  (purchases recur; ads
 *                  and small buys scale with play time)
 *   E[ltv_90d]   = (1 − p_churn) · value_90d                                  (churners stop paying)
 *   ltv_90d      = E[ltv_90d] · LogNormal(−0.125, 0.5)                         (mean-one noise), 2 decimals
 * Two thirds of the players spent nothing in 30 days: the median is under $2, the 99th percentile
 * over $150, and about 3 % round to 0.00 (likely churners who do not pay). The best possible model
 * (E[ltv_90d] itself) explains about 75 % of the variance; each row carries that value as
 * `expected_ltv_90d` (not a CSV column) to compare a trained model with.
 */

export const LTV_GENERATING_MODEL = {
  spendMultiplier: 2.5,
  sessionValue: 0.25,
  minutesReference: 20,
  noiseSd: 0.5,
} as const;

export const LTV_TARGET = 'ltv_90d';
export const LTV_COLUMNS = [...PLAYER_FEATURE_COLUMNS, LTV_TARGET] as const;

export type LtvRow = PlayerFeatures & {
  ltv_90d: number;
  /** The generating model's expected value for this player (not written to the CSV). */
  expected_ltv_90d: number;
};

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export function churnProbability(features: PlayerFeatures, trueMinutes: number): number {
  return sigmoid(
    CHURN.intercept +
      CHURN.sessions_per_week * features.sessions_per_week +
      CHURN.log_avg_session_minutes * Math.log(trueMinutes) +
      CHURN.days_since_last_login * features.days_since_last_login +
      CHURN.purchases_30d * features.purchases_30d +
      (CHURN.level_per_10 * features.level) / 10 +
      CHURN.platform[features.platform] +
      CHURN.region[features.region],
  );
}

export function* generateLtvRows(options: PlayerTableOptions): Generator<LtvRow> {
  validatePlayerTableOptions(options, 'ltv dataset options');
  const rng = new Random(options.seed);
  const g = LTV_GENERATING_MODEL;
  for (let i = 0; i < options.rows; i++) {
    const { features, trueMinutes } = drawPlayer(
      rng,
      playerId(options.seed, i, 'l'),
      options.missingRate ?? 0.02,
    );
    const value =
      g.spendMultiplier * features.spend_30d +
      (g.sessionValue * features.sessions_per_week * trueMinutes) / g.minutesReference;
    const expected = (1 - churnProbability(features, trueMinutes)) * value;
    const ltv = expected * rng.logNormal(-(g.noiseSd ** 2) / 2, g.noiseSd);
    yield { ...features, ltv_90d: Math.round(ltv * 100) / 100, expected_ltv_90d: expected };
  }
}

export function ltvCsv(options: PlayerTableOptions): string {
  return tableCsv(generateLtvRows(options), LTV_COLUMNS);
}

export function writeLtvCsv(path: string, options: PlayerTableOptions): Promise<void> {
  return writeTableCsv(path, generateLtvRows(options), LTV_COLUMNS);
}
