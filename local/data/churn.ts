import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { Random } from '../../lambdas/domain/ml/random.js';

/**
 * A seeded, realistic player-churn table for the demo, the tests and drift batches.
 *
 * Generating model (so a trained model can be checked against the truth):
 *   platform ∈ {ios .35, android .40, pc .15, console .10}; region ∈ {na .35, eu .30, apac .25, latam .10}
 *   level = 1 + Poisson(15);  sessions_per_week ~ Poisson(6 · (1.3 on pc/console))
 *   avg_session_minutes ~ LogNormal(3.0, 0.5) (≈ 20 min), missing 2 %
 *   days_since_last_login ~ round(Exp(mean 4));  purchases_30d ~ Poisson(0.6 + 0.02 · level)
 *   logit P(churned) = 2.0 − 0.30·sessions − 0.40·ln(minutes) + 0.25·days − 0.45·purchases
 *                      − 0.20·level/10 + platform effect {ios 0, android .3, pc −.2, console −.1}
 *                      + region effect {na 0, eu .1, apac .2, latam .35} + N(0, 0.5)
 * which gives about a one-in-three churn rate and a learnable AUC around 0.8.
 */

export const PLATFORMS = ['ios', 'android', 'pc', 'console'] as const;
export const REGIONS = ['na', 'eu', 'apac', 'latam'] as const;

export const GENERATING_MODEL = {
  intercept: 2.0,
  sessions_per_week: -0.3,
  log_avg_session_minutes: -0.4,
  days_since_last_login: 0.25,
  purchases_30d: -0.45,
  level_per_10: -0.2,
  platform: { ios: 0, android: 0.3, pc: -0.2, console: -0.1 },
  region: { na: 0, eu: 0.1, apac: 0.2, latam: 0.35 },
  noiseSd: 0.5,
} as const;

export interface ChurnDrift {
  /** Multiplies the mean sessions per week (0.6 = players play 40 % less). */
  readonly sessionsPerWeekScale?: number;
  /** Adds days to the mean days since last login. */
  readonly daysSinceLoginShift?: number;
  /** Platform weights replacing the default mix. */
  readonly platformMix?: Partial<Record<(typeof PLATFORMS)[number], number>>;
  /** Share of missing avg_session_minutes (default 0.02). */
  readonly missingRate?: number;
  /** Added to the churn logit's intercept: concept drift (the same players churn more). */
  readonly churnBaseShift?: number;
}

export type ChurnRow = {
  player_id: string;
  sessions_per_week: number;
  avg_session_minutes: number | null;
  days_since_last_login: number;
  purchases_30d: number;
  level: number;
  platform: string;
  region: string;
  churned: number;
  latency_ms?: number;
  prediction?: number;
};

export interface ChurnOptions {
  readonly rows: number;
  readonly seed: number;
  readonly drift?: ChurnDrift;
  /** Monitoring batches also carry serving latency and the served model's prediction. */
  readonly extraColumns?: {
    readonly latency?: boolean;
    readonly score?: (row: Record<string, string | number | null | undefined>) => number;
  };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export function* generateChurnRows(options: ChurnOptions): Generator<ChurnRow> {
  const rng = new Random(options.seed);
  const d = options.drift ?? {};
  const mix = PLATFORMS.map(
    (p) => d.platformMix?.[p] ?? { ios: 0.35, android: 0.4, pc: 0.15, console: 0.1 }[p],
  );
  const regionMix = [0.35, 0.3, 0.25, 0.1];
  const missing = d.missingRate ?? 0.02;
  const g = GENERATING_MODEL;
  for (let i = 0; i < options.rows; i++) {
    const platform = PLATFORMS[rng.choice(mix)] ?? 'ios';
    const region = REGIONS[rng.choice(regionMix)] ?? 'na';
    const level = 1 + rng.poisson(15);
    const desktop = platform === 'pc' || platform === 'console';
    const sessions = rng.poisson(6 * (desktop ? 1.3 : 1) * (d.sessionsPerWeekScale ?? 1));
    const minutes = Math.exp(rng.normal(3.0, 0.5));
    const days = Math.round(-Math.log(1 - rng.next()) * (4 + (d.daysSinceLoginShift ?? 0)));
    const purchases = rng.poisson(0.6 + 0.02 * level);
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
    const row: ChurnRow = {
      player_id: `p${options.seed.toString(36)}-${i.toString(36).padStart(6, '0')}`,
      sessions_per_week: sessions,
      avg_session_minutes: rng.next() < missing ? null : Math.round(minutes * 100) / 100,
      days_since_last_login: days,
      purchases_30d: purchases,
      level,
      platform,
      region,
      churned,
    };
    if (options.extraColumns?.latency) row.latency_ms = Math.round(Math.exp(rng.normal(3.2, 0.45)) * 10) / 10;
    if (options.extraColumns?.score) {
      row.prediction = Math.round(options.extraColumns.score(row) * 10000) / 10000;
    }
    yield row;
  }
}

function columns(options: ChurnOptions): string[] {
  const cols = [
    'player_id',
    'sessions_per_week',
    'avg_session_minutes',
    'days_since_last_login',
    'purchases_30d',
    'level',
    'platform',
    'region',
    'churned',
  ];
  if (options.extraColumns?.latency) cols.push('latency_ms');
  if (options.extraColumns?.score) cols.push('prediction');
  return cols;
}

function line(row: ChurnRow, cols: readonly string[]): string {
  return cols.map((c) => String((row as Record<string, unknown>)[c] ?? '')).join(',');
}

export function churnCsv(options: ChurnOptions): string {
  const cols = columns(options);
  const out = [cols.join(',')];
  for (const row of generateChurnRows(options)) out.push(line(row, cols));
  return `${out.join('\n')}\n`;
}

/** Streams the CSV to a file (10^6 rows without holding them in memory). */
export async function writeChurnCsv(path: string, options: ChurnOptions): Promise<void> {
  const cols = columns(options);
  const stream = createWriteStream(path);
  let buffer = `${cols.join(',')}\n`;
  for (const row of generateChurnRows(options)) {
    buffer += `${line(row, cols)}\n`;
    if (buffer.length > 1 << 16) {
      if (!stream.write(buffer)) await once(stream, 'drain');
      buffer = '';
    }
  }
  stream.end(buffer);
  await once(stream, 'finish');
}
