import type { Direction } from '../../contracts/sweep.js';

export type TrialStatus = 'evaluated' | 'stopped' | 'failed';

export interface TrialOutcome {
  readonly index: number;
  readonly status: TrialStatus;
  /** The platform-measured metrics (evaluated trials). */
  readonly metrics?: Readonly<Record<string, number | undefined>>;
}

export interface BestTrial<T extends TrialOutcome> {
  readonly best: T | undefined;
  /** Evaluated trials with the metric, best first. */
  readonly ranked: readonly T[];
}

/**
 * The best trial by the platform-measured metric in the direction: evaluated trials only (a
 * stopped or failed one is never chosen), ties broken by the lower trial index. Pure.
 */
export function pickBest<T extends TrialOutcome>(
  trials: readonly T[],
  metric: string,
  direction: Direction,
): BestTrial<T> {
  const value = (t: T) => t.metrics?.[metric];
  const ranked = trials
    .filter((t) => t.status === 'evaluated' && Number.isFinite(value(t)))
    .sort((a, b) => {
      const va = value(a) as number;
      const vb = value(b) as number;
      if (va !== vb) return direction === 'max' ? vb - va : va - vb;
      return a.index - b.index;
    });
  return { best: ranked[0], ranked };
}
