import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ColumnAccumulator } from '../../../lambdas/domain/profile/column-accumulator.js';

describe('ColumnAccumulator: numbers one at a time or in runs, the same state', () => {
  it('addNumbers in runs of any size equals addNumber value by value, across batch folds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 9000, maxLength: 20_000 }),
        fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 50 }),
        (values, runs) => {
          const one = new ColumnAccumulator('x', 'numeric', 10, 200, 3);
          for (const v of values) one.addNumber(v);
          const many = new ColumnAccumulator('x', 'numeric', 10, 200, 3);
          const array = Float64Array.from(values);
          for (let i = 0, r = 0; i < array.length; r++) {
            const take = Math.min(runs[r % runs.length] as number, array.length - i);
            many.addNumbers(array, i, take);
            i += take;
          }
          expect(JSON.stringify(many.state())).toBe(JSON.stringify(one.state()));
        },
      ),
      { seed: 11, numRuns: 40 },
    );
  });
});
