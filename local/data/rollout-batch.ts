import type { RolloutVariant } from '../../lambdas/contracts/rollout.js';
import { Random } from '../../lambdas/domain/ml/random.js';
import { assign } from '../../lambdas/domain/rollouts/assignment.js';
import { type ChurnOptions, churnColumns, generateChurnRows } from './churn.js';
import { tableCsv } from './csv-table.js';

/**
 * A seeded monitoring batch of a rollout, as a game's telemetry export would give it: churn
 * rows (the model's features, label and served prediction, so the drift check reads it like any
 * batch) whose players are assigned by the published rule (rollout id + player id → variant),
 * each row carrying the variant that served it, its latency, whether the request erred and
 * whether the player converted, drawn from that variant's arm. For demos and scenario tests.
 */
export interface RolloutArm {
  /** Share of requests that fail (0–1). */
  readonly errorRate: number;
  /** Median latency in ms (log-normal, σ 0.45). */
  readonly latencyMedianMs: number;
  /** Share of players who convert (0–1). */
  readonly conversion: number;
}

export interface RolloutBatchOptions {
  readonly rows: number;
  readonly seed: number;
  readonly rolloutId: string;
  /** The manifest's variants (canary first, control last) with their weights. */
  readonly variants: readonly Pick<RolloutVariant, 'name' | 'version' | 'weight'>[];
  /** Per variant name; a variant without one behaves like the last listed arm. */
  readonly arms: Readonly<Record<string, RolloutArm>>;
  /** Report the served version in the variant column instead of the variant's name. */
  readonly reportVersion?: boolean;
  readonly score?: NonNullable<ChurnOptions['extraColumns']>['score'];
}

export const ROLLOUT_BATCH_COLUMNS = ['variant', 'latency_ms', 'error', 'converted'] as const;

export function rolloutBatchCsv(options: RolloutBatchOptions): string {
  const churn: ChurnOptions = {
    rows: options.rows,
    seed: options.seed,
    extraColumns: options.score ? { score: options.score } : {},
  };
  const rng = new Random((options.seed ^ 0x5bd1e995) >>> 0);
  const fallback = Object.values(options.arms).at(-1);
  function* rows() {
    for (const row of generateChurnRows(churn)) {
      const v = assign(options.rolloutId, row.player_id, options.variants);
      const arm = options.arms[v.name] ?? fallback;
      if (!arm) throw new Error(`no arm for variant ${v.name}`);
      yield {
        ...row,
        variant: options.reportVersion ? v.version : v.name,
        latency_ms: Math.round(rng.logNormal(Math.log(arm.latencyMedianMs), 0.45) * 10) / 10,
        error: rng.next() < arm.errorRate ? 1 : 0,
        converted: rng.next() < arm.conversion ? 1 : 0,
      };
    }
  }
  return tableCsv(rows(), [...churnColumns(churn), ...ROLLOUT_BATCH_COLUMNS]);
}
