import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SweepSpecInput, sweepSpecSchema } from '../../../lambdas/contracts/sweep.js';
import { ValidationError } from '../../../lambdas/domain/errors.js';
import { generateTrials } from '../../../lambdas/domain/sweeps/trials.js';

const spec = (input: Partial<SweepSpecInput>) =>
  sweepSpecSchema.parse({
    trials: 8,
    metric: 'auc',
    parameters: { learningRate: { uniform: [0.01, 0.1] } },
    ...input,
  });

describe('generateTrials', () => {
  it('grid: the cartesian product, first parameter slowest', () => {
    const out = generateTrials(
      spec({
        strategy: 'grid',
        trials: 10,
        parameters: { a: { grid: [1, 2] }, b: { choice: ['x', 'y', 'z'] } },
      }),
    );
    expect(out.trials).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 1, b: 'z' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
      { a: 2, b: 'z' },
    ]);
    expect(out.message).toBeUndefined();
  });

  it('grid: cut to the budget, and says so with the size', () => {
    const out = generateTrials(
      spec({ strategy: 'grid', trials: 4, parameters: { a: { grid: [1, 2, 3] }, b: { int: [0, 2] } } }),
    );
    expect(out.trials).toHaveLength(4);
    expect(out.gridSize).toBe(9);
    expect(out.message).toMatch(/9 combinations.*budget of 4 trials.*raise trials to 9/);
  });

  it('grid refuses a real-valued range, naming the parameter and what to do', () => {
    expect(() =>
      generateTrials(spec({ strategy: 'grid', parameters: { lr: { logUniform: [0.001, 0.1] } } })),
    ).toThrow(ValidationError);
    expect(() =>
      generateTrials(spec({ strategy: 'grid', parameters: { lr: { logUniform: [0.001, 0.1] } } })),
    ).toThrow(
      /sweep parameter lr: a logUniform range cannot be enumerated by strategy grid; list values with grid, or use strategy random/,
    );
  });

  it('random: the same seed gives the same trials, another seed others', () => {
    const s = spec({
      parameters: { lr: { logUniform: [0.0001, 1] }, e: { int: [1, 50] }, k: { choice: ['a', 'b'] } },
    });
    expect(generateTrials(s)).toEqual(generateTrials(s));
    expect(generateTrials({ ...s, seed: 7 }).trials).not.toEqual(generateTrials(s).trials);
  });

  it('random (property): every sample lies in its range and has the declared shape', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.double({ min: 1e-6, max: 10, noNaN: true }),
        fc.double({ min: 1.001, max: 1000, noNaN: true }),
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 40 }),
        (seed, lo, factor, ilo, width, trials) => {
          const hi = lo * factor;
          const s = spec({
            seed,
            trials,
            parameters: {
              u: { uniform: [lo, hi] },
              l: { logUniform: [lo, hi] },
              i: { int: [ilo, ilo + width] },
              c: { choice: [true, false] },
            },
          });
          const out = generateTrials(s);
          expect(out.trials).toHaveLength(trials);
          for (const t of out.trials) {
            expect(t.u).toBeGreaterThanOrEqual(lo);
            expect(t.u).toBeLessThanOrEqual(hi);
            expect(t.l).toBeGreaterThanOrEqual(lo);
            expect(t.l).toBeLessThanOrEqual(hi);
            expect(Number.isInteger(t.i)).toBe(true);
            expect(t.i).toBeGreaterThanOrEqual(ilo);
            expect(t.i).toBeLessThanOrEqual(ilo + width);
            expect(typeof t.c).toBe('boolean');
          }
          expect(generateTrials(s)).toEqual(out);
        },
      ),
      { seed: 14, numRuns: 200 },
    );
  });

  it('log-uniform spreads over the decades (not bunched at the top as uniform is)', () => {
    const out = generateTrials({
      ...spec({ seed: 3, parameters: { l: { logUniform: [0.0001, 1] } } }),
      trials: 400,
    });
    const below = out.trials.filter((t) => (t.l as number) < 0.01).length;
    // Half the decades lie below 0.01: about half the samples, where uniform would give 1 %.
    expect(below).toBeGreaterThan(150);
    expect(below).toBeLessThan(250);
  });
});

describe('sweepSpecSchema', () => {
  it('refuses bad specs naming the key', () => {
    const bad = (input: unknown) => sweepSpecSchema.safeParse(input);
    expect(bad({ trials: 0, metric: 'auc', parameters: { a: { grid: [1] } } }).success).toBe(false);
    expect(bad({ trials: 4, metric: 'auc', concurrency: 21, parameters: { a: { grid: [1] } } }).success).toBe(
      false,
    );
    expect(bad({ trials: 4, metric: 'nope', parameters: { a: { grid: [1] } } }).success).toBe(false);
    expect(bad({ trials: 4, metric: 'auc', parameters: { a: { uniform: [2, 1] } } }).success).toBe(false);
    expect(bad({ trials: 4, metric: 'auc', parameters: { a: { logUniform: [0, 1] } } }).success).toBe(false);
    expect(bad({ trials: 4, metric: 'auc', parameters: {} }).success).toBe(false);
    const noMetric = bad({
      trials: 4,
      metric: 'auc',
      parameters: { a: { grid: [1] } },
      earlyStopping: { rule: 'asha' },
    });
    expect(noMetric.success).toBe(false);
    expect(JSON.stringify(noMetric.error?.issues)).toMatch(/is required with rule asha/);
  });
});
