import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type StoppingRule,
  shouldStop,
  type TrialCurve,
} from '../../../lambdas/domain/sweeps/early-stopping.js';

/**
 * A sweep as the platform runs it: trials train in any interleaving, the watcher judges a trial
 * at whatever epoch its progress had reached when a copy arrived (or not at all between two
 * copies), a stopped trial's job trains a few more epochs before it is gone, and CheckTrial
 * judges each trial that trained to its end. Whatever the curves and the order, early stopping
 * never stops every trial of a sweep: something is left to evaluate.
 */
interface Trial {
  readonly curve: readonly number[];
  reached: number;
  judgedThrough: number;
  stopped: boolean;
  /** Epochs its job still trains after the stop (termination takes a moment). */
  grace: number;
}

function curveOf(index: number, t: Trial): TrialCurve {
  const values = t.curve.slice(0, t.reached);
  return {
    index,
    values: t.stopped ? values.slice(0, t.judgedThrough) : values,
    ...(t.judgedThrough ? { judgedThrough: t.judgedThrough } : {}),
  };
}

function judge(trials: Trial[], index: number, rule: StoppingRule): void {
  const t = trials[index] as Trial;
  if (t.stopped || t.reached === 0) return;
  const others = trials.flatMap((o, i) => (i === index || o.reached === 0 ? [] : [curveOf(i, o)]));
  const d = shouldStop(curveOf(index, t), others, rule);
  if (d.stop) t.stopped = true;
  t.judgedThrough = Math.max(t.judgedThrough, d.judgedThrough);
}

const ruleArb = fc.record({
  rule: fc.constantFrom<'asha' | 'median'>('asha', 'median'),
  minEpochs: fc.integer({ min: 1, max: 3 }),
  reductionFactor: fc.integer({ min: 2, max: 4 }),
  metric: fc.constant('trainLoss'),
  direction: fc.constantFrom<'min' | 'max'>('min', 'max'),
});

describe('early stopping in an asynchronous sweep', () => {
  it('never stops every trial, whatever the curves, the interleaving and the checks missed', () => {
    fc.assert(
      fc.property(
        ruleArb,
        fc.array(fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 20 }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.array(fc.tuple(fc.nat(), fc.boolean(), fc.integer({ min: 0, max: 3 })), { maxLength: 400 }),
        (rule, curves, schedule) => {
          const trials: Trial[] = curves.map((curve) => ({
            curve,
            reached: 0,
            judgedThrough: 0,
            stopped: false,
            grace: 0,
          }));
          const advance = (index: number, check: boolean, grace: number) => {
            const t = trials[index] as Trial;
            if (t.reached >= t.curve.length || (t.stopped && t.grace <= 0)) return;
            if (t.stopped) t.grace--;
            t.reached++;
            const ended = t.reached === t.curve.length;
            if (check || ended) {
              const wasStopped = t.stopped;
              judge(trials, index, rule);
              if (!wasStopped && t.stopped) t.grace = grace;
            }
          };
          for (const [pick, check, grace] of schedule) advance(pick % trials.length, check, grace);
          // Then every trial trains to its end (or its stop), in order.
          for (let i = 0; i < trials.length; i++) {
            while (trials[i] && (trials[i] as Trial).reached < (trials[i] as Trial).curve.length) {
              const before = (trials[i] as Trial).reached;
              advance(i, false, 0);
              if ((trials[i] as Trial).reached === before) break;
            }
          }
          expect(trials.some((t) => !t.stopped)).toBe(true);
        },
      ),
      { seed: 20261201, numRuns: 400 },
    );
  });
});
