import type { SweepParameter, SweepSpec } from '../../contracts/sweep.js';
import type { HyperparameterValue } from '../../contracts/trainer.js';
import { ValidationError } from '../errors.js';
import { Random } from '../ml/random.js';

/** The swept values of each trial, in trial order. */
export interface GeneratedTrials {
  readonly trials: readonly Readonly<Record<string, HyperparameterValue>>[];
  /** The number of grid combinations, when the grid was cut to the budget. */
  readonly gridSize?: number;
  /** One line for the user when the grid was cut to the budget. */
  readonly message?: string;
}

/** Six significant digits: readable values, reproducible from the seed. */
function tidy(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Number(n.toPrecision(6))));
}

/** The values a grid enumerates for one parameter (a range cannot be enumerated, but int can). */
function gridValues(name: string, p: SweepParameter): readonly HyperparameterValue[] {
  if ('grid' in p) return p.grid;
  if ('choice' in p) return p.choice;
  if ('int' in p) {
    const [lo, hi] = p.int;
    if (hi - lo + 1 > 100) {
      throw new ValidationError(
        `sweep parameter ${name}: int [${lo}, ${hi}] has ${hi - lo + 1} values, too many for a grid; list some with grid, or use strategy random`,
      );
    }
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  }
  const kind = 'uniform' in p ? 'uniform' : 'logUniform';
  throw new ValidationError(
    `sweep parameter ${name}: a ${kind} range cannot be enumerated by strategy grid; list values with grid, or use strategy random`,
  );
}

/** One seeded draw of one parameter. */
function sample(p: SweepParameter, rng: Random): HyperparameterValue {
  if ('grid' in p) return p.grid[Math.floor(rng.next() * p.grid.length)] as HyperparameterValue;
  if ('choice' in p) return p.choice[Math.floor(rng.next() * p.choice.length)] as HyperparameterValue;
  if ('int' in p) {
    const [lo, hi] = p.int;
    return lo + Math.floor(rng.next() * (hi - lo + 1));
  }
  if ('uniform' in p) {
    const [lo, hi] = p.uniform;
    return tidy(lo + rng.next() * (hi - lo), lo, hi);
  }
  const [lo, hi] = p.logUniform;
  return tidy(Math.exp(Math.log(lo) + rng.next() * (Math.log(hi) - Math.log(lo))), lo, hi);
}

/**
 * The trials of a sweep. grid: the cartesian product of every parameter's values (the first
 * parameter varying slowest), cut to the trial budget with a message saying so; random: `trials`
 * seeded draws (parameters in the spec's order), the same for the same seed. Pure.
 */
export function generateTrials(
  spec: Pick<SweepSpec, 'parameters' | 'strategy' | 'seed' | 'trials'>,
): GeneratedTrials {
  const names = Object.keys(spec.parameters);
  if (spec.strategy === 'random') {
    const rng = new Random(spec.seed);
    const trials = Array.from({ length: spec.trials }, () =>
      Object.fromEntries(names.map((n) => [n, sample(spec.parameters[n] as SweepParameter, rng)])),
    );
    return { trials };
  }
  const axes = names.map((n) => gridValues(n, spec.parameters[n] as SweepParameter));
  const size = axes.reduce((a, values) => a * values.length, 1);
  const count = Math.min(size, spec.trials);
  const trials: Record<string, HyperparameterValue>[] = [];
  for (let i = 0; i < count; i++) {
    let rest = i;
    const trial: Record<string, HyperparameterValue> = {};
    for (let d = names.length - 1; d >= 0; d--) {
      const values = axes[d] as readonly HyperparameterValue[];
      trial[names[d] as string] = values[rest % values.length] as HyperparameterValue;
      rest = Math.floor(rest / values.length);
    }
    trials.push(Object.fromEntries(names.map((n) => [n, trial[n] as HyperparameterValue])));
  }
  if (size <= spec.trials) return { trials };
  return {
    trials,
    gridSize: size,
    message: `the grid has ${size} combinations; the budget of ${spec.trials} trials runs the first ${spec.trials} (raise trials to ${size} to run them all)`,
  };
}
