import { Random } from '../../lambdas/domain/ml/random.js';
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
 * A seeded player-segment table: a multiclass target for the segmentation model, with the churn
 * table's kind of columns, spend_30d and a player_id key (exclude it).
 *
 * Generating model (a multinomial logit on the true features), so a trained model can be
 * checked against the truth:
 *   features as players.ts
 *   score(casual)     = 0                                                         (reference)
 *   score(core)       = −2.6 + 0.30 · sessions + 1.0 · ln(minutes / 20) + 0.02 · level
 *   score(whale)      = −7.0 + 1.9 · ln(1 + spend_30d) + 0.01 · level
 *   score(churn_risk) = −0.9 + 0.30 · days_since_last_login − 0.25 · sessions
 *   P(segment) = softmax(scores);  segment ~ Categorical(P)
 * That gives roughly casual 39 %, core 35 %, churn_risk 22 %, whale 4 %: an imbalanced target
 * where accuracy alone flatters a model (macro-F1 does not). The classes overlap: the best
 * possible classifier (the true P) is right about 63 % of the time. Each row carries the true P
 * as `segment_probabilities` (not a CSV column) to compare a trained model with.
 */

export const SEGMENTS = ['casual', 'core', 'whale', 'churn_risk'] as const;
export type Segment = (typeof SEGMENTS)[number];

export const SEGMENT_GENERATING_MODEL = {
  core: { intercept: -2.6, sessions: 0.3, logMinutesOver20: 1.0, level: 0.02 },
  whale: { intercept: -7.0, log1pSpend: 1.9, level: 0.01 },
  churn_risk: { intercept: -0.9, days: 0.3, sessions: -0.25 },
} as const;

export const SEGMENT_TARGET = 'segment';
export const SEGMENT_COLUMNS = [...PLAYER_FEATURE_COLUMNS, SEGMENT_TARGET] as const;

export type SegmentRow = PlayerFeatures & {
  segment: Segment;
  /** The generating model's P(segment) for this player (not written to the CSV). */
  segment_probabilities: Readonly<Record<Segment, number>>;
};

export function segmentProbabilities(features: PlayerFeatures, trueMinutes: number): Record<Segment, number> {
  const g = SEGMENT_GENERATING_MODEL;
  const s = features.sessions_per_week;
  const scores: Record<Segment, number> = {
    casual: 0,
    core:
      g.core.intercept +
      g.core.sessions * s +
      g.core.logMinutesOver20 * Math.log(trueMinutes / 20) +
      g.core.level * features.level,
    whale:
      g.whale.intercept +
      g.whale.log1pSpend * Math.log1p(features.spend_30d) +
      g.whale.level * features.level,
    churn_risk:
      g.churn_risk.intercept + g.churn_risk.days * features.days_since_last_login + g.churn_risk.sessions * s,
  };
  const top = Math.max(...Object.values(scores));
  const exp = SEGMENTS.map((k) => Math.exp(scores[k] - top));
  const total = exp.reduce((a, b) => a + b, 0);
  return Object.fromEntries(SEGMENTS.map((k, i) => [k, (exp[i] as number) / total])) as Record<
    Segment,
    number
  >;
}

export function* generateSegmentRows(options: PlayerTableOptions): Generator<SegmentRow> {
  validatePlayerTableOptions(options, 'segments dataset options');
  const rng = new Random(options.seed);
  for (let i = 0; i < options.rows; i++) {
    const { features, trueMinutes } = drawPlayer(
      rng,
      playerId(options.seed, i, 's'),
      options.missingRate ?? 0.02,
    );
    const probabilities = segmentProbabilities(features, trueMinutes);
    const segment = SEGMENTS[rng.choice(SEGMENTS.map((k) => probabilities[k]))] ?? 'casual';
    yield { ...features, segment, segment_probabilities: probabilities };
  }
}

export function segmentsCsv(options: PlayerTableOptions): string {
  return tableCsv(generateSegmentRows(options), SEGMENT_COLUMNS);
}

export function writeSegmentsCsv(path: string, options: PlayerTableOptions): Promise<void> {
  return writeTableCsv(path, generateSegmentRows(options), SEGMENT_COLUMNS);
}
