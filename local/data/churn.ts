import { z } from 'zod';
import { describeZodError } from '../../lambdas/contracts/zod-errors.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { Random } from '../../lambdas/domain/ml/random.js';
import { tableCsv, writeTableCsv } from './csv-table.js';

/**
 * A seeded, realistic player-churn table for the demo, the tests and drift batches.
 *
 * Generating model, so a trained model can be checked against the truth (defaults, no drift):
 *   platform ∈ {ios .35, android .40, pc .15, console .10}; region ∈ {na .35, eu .30, apac .25, latam .10}
 *   level                 = 1 + NegBin(mean 14, dispersion 1.5)          (long tail of veterans)
 *   sessions_per_week     ~ NegBin(mean 6 · (1.3 on pc/console), dispersion 4)
 *   avg_session_minutes   ~ LogNormal(μ 3.0, σ 0.5) (median ≈ 20 min); 2 % missing completely at random
 *   days_since_last_login = round(Exp(mean 2 + 12 / (1 + sessions)))      (rare players lapse longer)
 *   purchases_30d         ~ Poisson(0.3 + 0.03 · level)
 *   logit P(churned) = 1.5 − 0.30·sessions − 0.40·ln(minutes) + 0.25·days − 0.45·purchases
 *                      − 0.20·level/10 + platform {ios 0, android +.30, pc −.20, console −.10}
 *                      + region {na 0, eu +.10, apac +.20, latam +.35} + N(0, 0.5)
 *   churned ~ Bernoulli(sigmoid(logit))
 * That gives roughly a one-in-three churn rate and a learnable holdout AUC near 0.8. The logit
 * uses the true minutes even when the value is blanked, as a logging gap would.
 *
 * Extra monitoring columns draw from their own random stream, so a batch with them has exactly
 * the same player rows as one without for the same seed and drift.
 */

export const PLATFORMS = ['ios', 'android', 'pc', 'console'] as const;
export const REGIONS = ['na', 'eu', 'apac', 'latam'] as const;
export type Platform = (typeof PLATFORMS)[number];
export type Region = (typeof REGIONS)[number];

export const DEFAULT_PLATFORM_MIX: Readonly<Record<Platform, number>> = {
  ios: 0.35,
  android: 0.4,
  pc: 0.15,
  console: 0.1,
};
export const DEFAULT_REGION_MIX: Readonly<Record<Region, number>> = {
  na: 0.35,
  eu: 0.3,
  apac: 0.25,
  latam: 0.1,
};
export const DEFAULT_MISSING_RATE = 0.02;

/** The true logit coefficients (on raw units, ln(minutes) and level/10). */
export const GENERATING_MODEL = {
  intercept: 1.5,
  sessions_per_week: -0.3,
  log_avg_session_minutes: -0.4,
  days_since_last_login: 0.25,
  purchases_30d: -0.45,
  level_per_10: -0.2,
  platform: { ios: 0, android: 0.3, pc: -0.2, console: -0.1 },
  region: { na: 0, eu: 0.1, apac: 0.2, latam: 0.35 },
  noiseSd: 0.5,
} as const;

const driftSchema = z.strictObject({
  /** Multiplies the mean sessions per week (0.6 = players play 40 % less): covariate drift. */
  sessionsPerWeekScale: z.number().gt(0).max(100).optional(),
  /** Days added to the mean days since last login (players lapse longer): covariate drift. */
  daysSinceLoginShift: z.number().min(-2).max(365).optional(),
  /** Platform weights replacing the default mix (any positive scale; unnamed platforms keep theirs). */
  platformMix: z.partialRecord(z.enum(PLATFORMS), z.number().min(0)).optional(),
  /** Share of blank avg_session_minutes (default 0.02): a logging or pipeline fault. */
  missingRate: z.number().min(0).max(1).optional(),
  /** Added to the churn logit's intercept: concept drift (the same players churn more). */
  churnBaseShift: z.number().min(-20).max(20).optional(),
});
export type ChurnDrift = z.infer<typeof driftSchema>;

const optionsSchema = z.object({
  rows: z.number().int().min(0),
  seed: z.number().int(),
  drift: driftSchema.optional(),
});

export type ChurnRow = {
  player_id: string;
  sessions_per_week: number;
  avg_session_minutes: number | null;
  days_since_last_login: number;
  purchases_30d: number;
  level: number;
  platform: Platform;
  region: Region;
  churned: 0 | 1;
  latency_ms?: number;
  prediction?: number;
};

export type ScoreInput = Readonly<Record<string, string | number | null | undefined>>;

export interface ChurnOptions {
  readonly rows: number;
  readonly seed: number;
  readonly drift?: ChurnDrift;
  /** Monitoring batches also carry serving latency and the served model's prediction. */
  readonly extraColumns?: {
    /** Adds latency_ms ~ LogNormal(μ 3.2, σ 0.45) (median ≈ 25 ms). */
    readonly latency?: boolean;
    /** Adds `prediction`: the served model's score of the row's features (rounded to 4 places). */
    readonly score?: (row: ScoreInput) => number;
  };
}

export const CHURN_COLUMNS = [
  'player_id',
  'sessions_per_week',
  'avg_session_minutes',
  'days_since_last_login',
  'purchases_30d',
  'level',
  'platform',
  'region',
  'churned',
] as const;

/** The CSV header for these options: the base columns, then latency_ms and prediction if asked. */
export function churnColumns(options: ChurnOptions): string[] {
  return [
    ...CHURN_COLUMNS,
    ...(options.extraColumns?.latency ? ['latency_ms'] : []),
    ...(options.extraColumns?.score ? ['prediction'] : []),
  ];
}

function validate(options: ChurnOptions): void {
  const result = optionsSchema.safeParse(
    { rows: options.rows, seed: options.seed, drift: options.drift },
    { reportInput: true },
  );
  if (!result.success) throw new ValidationError(describeZodError(result.error, 'churn dataset options'));
  const mix = { ...DEFAULT_PLATFORM_MIX, ...options.drift?.platformMix };
  if (Object.values(mix).every((w) => w === 0)) {
    throw new ValidationError('churn dataset options: drift.platformMix gives every platform weight 0');
  }
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const round2 = (x: number) => Math.round(x * 100) / 100;

export function* generateChurnRows(options: ChurnOptions): Generator<ChurnRow> {
  validate(options);
  const rng = new Random(options.seed);
  // A separate stream for the monitoring columns keeps the player rows independent of them.
  const extraRng = new Random((options.seed ^ 0x2545f491) >>> 0);
  const d = options.drift ?? {};
  const platformMix = PLATFORMS.map((p) => d.platformMix?.[p] ?? DEFAULT_PLATFORM_MIX[p]);
  const regionMix = REGIONS.map((r) => DEFAULT_REGION_MIX[r]);
  const missingRate = d.missingRate ?? DEFAULT_MISSING_RATE;
  const g = GENERATING_MODEL;
  const idPrefix = `p${(options.seed >>> 0).toString(36)}-`;

  for (let i = 0; i < options.rows; i++) {
    const platform = PLATFORMS[rng.choice(platformMix)] ?? 'ios';
    const region = REGIONS[rng.choice(regionMix)] ?? 'na';
    const level = 1 + rng.negativeBinomial(14, 1.5);
    const desktop = platform === 'pc' || platform === 'console';
    const sessions = rng.negativeBinomial(6 * (desktop ? 1.3 : 1) * (d.sessionsPerWeekScale ?? 1), 4);
    const minutes = rng.logNormal(3.0, 0.5);
    const days = Math.round(rng.exponential(2 + 12 / (1 + sessions) + (d.daysSinceLoginShift ?? 0)));
    const purchases = rng.poisson(0.3 + 0.03 * level);
    const logit =
      g.intercept +
      (d.churnBaseShift ?? 0) +
      g.sessions_per_week * sessions +
      g.log_avg_session_minutes * Math.log(minutes) +
      g.days_since_last_login * days +
      g.purchases_30d * purchases +
      (g.level_per_10 * level) / 10 +
      g.platform[platform] +
      g.region[region] +
      rng.normal(0, g.noiseSd);
    const churned = rng.next() < sigmoid(logit) ? 1 : 0;
    const blank = rng.next() < missingRate;
    const row: ChurnRow = {
      player_id: `${idPrefix}${i.toString(36).padStart(6, '0')}`,
      sessions_per_week: sessions,
      avg_session_minutes: blank ? null : round2(minutes),
      days_since_last_login: days,
      purchases_30d: purchases,
      level,
      platform,
      region,
      churned,
    };
    if (options.extraColumns?.latency) row.latency_ms = Math.round(extraRng.logNormal(3.2, 0.45) * 10) / 10;
    if (options.extraColumns?.score) {
      const { latency_ms: _latency, ...features } = row;
      row.prediction = Math.round(options.extraColumns.score(features) * 10_000) / 10_000;
    }
    yield row;
  }
}

export function churnCsv(options: ChurnOptions): string {
  return tableCsv(generateChurnRows(options), churnColumns(options));
}

/** Streams the CSV to a file in 64 KiB chunks, honouring back-pressure (10^6 rows is fine). */
export async function writeChurnCsv(path: string, options: ChurnOptions): Promise<void> {
  await writeTableCsv(path, generateChurnRows(options), churnColumns(options));
}
