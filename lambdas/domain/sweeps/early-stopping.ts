import type { Direction, SweepRules } from '../../contracts/sweep.js';

/** One trial's per-epoch values of the early-stopping metric (epoch e at position e − 1). */
export interface TrialCurve {
  readonly index: number;
  readonly values: readonly number[];
  /**
   * The last epoch the rule has judged this trial at (0 or absent: none yet). A trial it passed
   * is never judged again at or before that epoch, and ASHA counts a peer at a rung only once
   * the peer was promoted through the rung before. A stopped peer's values end at the epoch it
   * was stopped at: what it trained after (a job is terminated some seconds later) never counts.
   */
  readonly judgedThrough?: number;
}

export type StoppingRule = SweepRules['earlyStopping'];

export interface StopDecision {
  readonly stop: boolean;
  /** Why, with the rung or epoch, the trial's value and the threshold it missed (or met). */
  readonly reason: string;
  /**
   * The epoch judged last: the rung or epoch it failed at (stop), or the last one it passed
   * (the trial's judgedThrough when there was nothing new to judge).
   */
  readonly judgedThrough: number;
}

const show = (n: number) => (Number.isInteger(n) ? String(n) : Number(n.toPrecision(4)).toString());

/** Whether a is better than b in the direction (ties are not better). */
const better = (a: number, b: number, direction: Direction) => (direction === 'max' ? a > b : a < b);

/** The rung epochs of ASHA up to `epochs`: minEpochs · η^k, rounded, distinct. */
export function ashaRungs(minEpochs: number, reductionFactor: number, epochs: number): number[] {
  const rungs: number[] = [];
  for (let k = 0; ; k++) {
    const rung = Math.round(minEpochs * reductionFactor ** k);
    if (rung > epochs) return rungs;
    if (rungs.at(-1) !== rung) rungs.push(rung);
    if (k > 60) return rungs;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * ASHA (asynchronous successive halving): each rung r_k = minEpochs·η^k is judged once, when the
 * trial has reached it: it goes on only if its value there is among the top max(1, ⌊n/η⌋) of
 * the n trials at that rung so far (itself included; a peer with an equal value and a lower index
 * ranks first). A peer is at rung k once it has reached it and was promoted through rung k − 1
 * (every trial is at the first rung). The first failed rung stops it; a passed one stays passed,
 * so the best trial at each rung always goes on and a sweep never stops all its trials.
 */
function asha(trial: TrialCurve, others: readonly TrialCurve[], rule: StoppingRule): StopDecision {
  const { metric, direction, reductionFactor } = rule;
  const judged = trial.judgedThrough ?? 0;
  const rungs = ashaRungs(rule.minEpochs, reductionFactor, trial.values.length);
  if (!rungs.length) {
    return {
      stop: false,
      reason: `trained ${trial.values.length} epochs, fewer than the first ASHA rung (${rule.minEpochs})`,
      judgedThrough: judged,
    };
  }
  for (const [k, epoch] of rungs.entries()) {
    if (epoch <= judged) continue;
    const value = trial.values[epoch - 1] as number;
    const previous = k > 0 ? (rungs[k - 1] as number) : 0;
    const peers = others.filter(
      (o) =>
        o.values.length >= epoch &&
        Number.isFinite(o.values[epoch - 1]) &&
        (o.judgedThrough ?? 0) >= previous,
    );
    const all = [
      ...peers.map((p) => ({ index: p.index, value: p.values[epoch - 1] as number })),
      { index: trial.index, value },
    ];
    all.sort((a, b) =>
      better(a.value, b.value, direction) ? -1 : better(b.value, a.value, direction) ? 1 : a.index - b.index,
    );
    const keep = Math.max(1, Math.floor(all.length / reductionFactor));
    const rank = all.findIndex((t) => t.index === trial.index);
    const threshold = (all[keep - 1] as { value: number }).value;
    if (!Number.isFinite(value) || rank >= keep) {
      return {
        stop: true,
        reason: `ASHA rung ${k} (epoch ${epoch}): ${metric} ${show(value)} is not in the top ${keep} of the ${all.length} trials at that rung (threshold ${show(threshold)}, ${direction})`,
        judgedThrough: epoch,
      };
    }
  }
  const last = rungs.at(-1) as number;
  return {
    stop: false,
    reason: `passed ${rungs.length} ASHA rung(s), the last at epoch ${last}`,
    judgedThrough: last,
  };
}

/**
 * The median stopping rule: from epoch minEpochs on, each epoch judged once, the trial stops at
 * the first epoch where its best value so far is worse than the median of the other trials'
 * running averages up to that epoch (trials that reached it).
 */
function medianRule(trial: TrialCurve, others: readonly TrialCurve[], rule: StoppingRule): StopDecision {
  const { metric, direction } = rule;
  const judged = trial.judgedThrough ?? 0;
  let best = Number.NaN;
  let last = judged;
  for (let epoch = 1; epoch <= trial.values.length; epoch++) {
    const value = trial.values[epoch - 1] as number;
    if (Number.isFinite(value) && (!Number.isFinite(best) || better(value, best, direction))) best = value;
    if (epoch < rule.minEpochs || epoch <= judged) continue;
    last = epoch;
    const averages = others
      .filter((o) => o.values.length >= epoch)
      .map((o) => o.values.slice(0, epoch).reduce((a, b) => a + b, 0) / epoch)
      .filter(Number.isFinite);
    if (!averages.length) continue;
    const threshold = median(averages);
    if (!Number.isFinite(best) || better(threshold, best, direction)) {
      return {
        stop: true,
        reason: `median rule at epoch ${epoch}: best ${metric} so far ${show(best)} is worse than the median ${show(threshold)} of ${averages.length} other trial(s)' running averages (${direction})`,
        judgedThrough: epoch,
      };
    }
  }
  return {
    stop: false,
    reason: `never worse than the median of the other trials (${others.length} so far)`,
    judgedThrough: last,
  };
}

/**
 * Whether a trial should stop, against the trials known so far, by the sweep's rule. `none`
 * never stops; a trial with no values of the metric stops (its metrics.jsonl lacks it).
 */
export function shouldStop(
  trial: TrialCurve,
  others: readonly TrialCurve[],
  rule: StoppingRule,
): StopDecision {
  const judgedThrough = trial.judgedThrough ?? 0;
  if (rule.rule === 'none') return { stop: false, reason: 'no early stopping', judgedThrough };
  if (!trial.values.length) {
    return {
      stop: true,
      reason: `its metrics.jsonl has no ${rule.metric} value: the early-stopping metric must be one the trainer writes each epoch`,
      judgedThrough,
    };
  }
  return rule.rule === 'asha' ? asha(trial, others, rule) : medianRule(trial, others, rule);
}
