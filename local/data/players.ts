import { z } from 'zod';
import { describeZodError } from '../../lambdas/contracts/zod-errors.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import type { Random } from '../../lambdas/domain/ml/random.js';
import {
  DEFAULT_PLATFORM_MIX,
  DEFAULT_REGION_MIX,
  PLATFORMS,
  type Platform,
  REGIONS,
  type Region,
} from './churn.js';

/**
 * The player features shared by the LTV and segment tables: the churn table's columns drawn the
 * same way (see churn.ts), plus the money a player spent in the last 30 days.
 *
 *   platform, region, level, sessions_per_week, avg_session_minutes, days_since_last_login as churn.ts
 *   purchase_rate         = (0.3 + 0.03 · level) · Gamma(shape 0.5, scale 2)   (mean-one, heavy tail:
 *                           most players rarely buy, a few buy a lot)
 *   purchases_30d         ~ Poisson(purchase_rate)
 *   spend_30d             = Σ over purchases of LogNormal(ln 4.99 + platform {ios .25, android 0,
 *                           pc .10, console .15}, 0.8)                       (dollars, 2 decimals)
 *   avg_session_minutes is blank for `missingRate` of the rows (default 2 %); the generating models
 *   use the true value, as a logging gap would leave it.
 */

export const PRICE_LOG_SHIFT: Readonly<Record<Platform, number>> = {
  ios: 0.25,
  android: 0,
  pc: 0.1,
  console: 0.15,
};

export interface PlayerFeatures {
  player_id: string;
  platform: Platform;
  region: Region;
  level: number;
  sessions_per_week: number;
  /** Blank (null) for a share of rows: the value as logged. */
  avg_session_minutes: number | null;
  days_since_last_login: number;
  purchases_30d: number;
  spend_30d: number;
}

export const PLAYER_FEATURE_COLUMNS = [
  'player_id',
  'platform',
  'region',
  'level',
  'sessions_per_week',
  'avg_session_minutes',
  'days_since_last_login',
  'purchases_30d',
  'spend_30d',
] as const;

/** Options every generated player table takes. */
export const playerTableOptionsSchema = z.strictObject({
  rows: z.number().int().min(0),
  seed: z.number().int(),
  /** Share of blank avg_session_minutes (default 0.02). */
  missingRate: z.number().min(0).max(1).optional(),
});
export type PlayerTableOptions = z.infer<typeof playerTableOptionsSchema>;

export function validatePlayerTableOptions(options: PlayerTableOptions, source: string): void {
  const result = playerTableOptionsSchema.safeParse(options, { reportInput: true });
  if (!result.success) throw new ValidationError(describeZodError(result.error, source));
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** One player, and the true (never blanked) session minutes the generating models use. */
export function drawPlayer(
  rng: Random,
  id: string,
  missingRate: number,
): { features: PlayerFeatures; trueMinutes: number } {
  const platform = PLATFORMS[rng.choice(PLATFORMS.map((p) => DEFAULT_PLATFORM_MIX[p]))] ?? 'ios';
  const region = REGIONS[rng.choice(REGIONS.map((r) => DEFAULT_REGION_MIX[r]))] ?? 'na';
  const level = 1 + rng.negativeBinomial(14, 1.5);
  const desktop = platform === 'pc' || platform === 'console';
  const sessions = rng.negativeBinomial(6 * (desktop ? 1.3 : 1), 4);
  const minutes = rng.logNormal(3.0, 0.5);
  const days = Math.round(rng.exponential(2 + 12 / (1 + sessions)));
  const purchases = rng.poisson((0.3 + 0.03 * level) * rng.gamma(0.5, 2));
  let spend = 0;
  for (let k = 0; k < purchases; k++) spend += rng.logNormal(Math.log(4.99) + PRICE_LOG_SHIFT[platform], 0.8);
  const blank = rng.next() < missingRate;
  return {
    features: {
      player_id: id,
      platform,
      region,
      level,
      sessions_per_week: sessions,
      avg_session_minutes: blank ? null : round2(minutes),
      days_since_last_login: days,
      purchases_30d: purchases,
      spend_30d: round2(spend),
    },
    trueMinutes: minutes,
  };
}

export const playerId = (seed: number, index: number, tag: string) =>
  `${tag}${(seed >>> 0).toString(36)}-${index.toString(36).padStart(6, '0')}`;
