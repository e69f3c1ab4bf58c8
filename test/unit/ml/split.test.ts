import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../lambdas/domain/ml/dataset.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { type SplitSide, sideOfGroup, splitCsv, splitRows } from '../../../lambdas/domain/ml/split.js';

const options = { holdoutFraction: 0.2, validationFraction: 0.1, seed: 42 };

/** Seeded rows: `groups` customers, each with 1–5 rows. */
type CustomerRow = {
  customer: string;
  spend: string;
  churned: string;
};

function customerRows(groups: number, seed: number): CustomerRow[] {
  const random = new Random(seed);
  const rows: CustomerRow[] = [];
  for (let g = 0; g < groups; g++) {
    const n = 1 + Math.floor(random.next() * 5);
    for (let k = 0; k < n; k++) rows.push({ customer: `c${g}`, spend: String(k), churned: String(g % 2) });
  }
  return rows;
}

function share(sides: readonly SplitSide[], side: SplitSide): number {
  return sides.filter((s) => s === side).length / sides.length;
}

describe('splitRows', () => {
  it('never puts one key value on two sides (any seed, any fractions)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 3 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.double({ min: 0.01, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 0.4, noNaN: true }),
        (keys, seed, holdoutFraction, validationFraction) => {
          const rows = keys.map((customer) => ({ customer }));
          const sides = splitRows(rows, { holdoutFraction, validationFraction, seed, key: 'customer' });
          const sideOf = new Map<string, SplitSide>();
          sides.forEach((side, i) => {
            const key = keys[i] as string;
            expect(sideOf.get(key) ?? side, key).toBe(side);
            sideOf.set(key, side);
          });
        },
      ),
    );
  });

  it('meets the fractions within tolerance at 10k groups, with and without a key', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ customer: `c${i}` }));
    for (const key of ['customer', undefined]) {
      for (const seed of [1, 42, 2026]) {
        const sides = splitRows(rows, { ...options, seed, key });
        expect(share(sides, 'holdout'), `${key} ${seed}`).toBeCloseTo(0.2, 1);
        expect(Math.abs(share(sides, 'holdout') - 0.2)).toBeLessThan(0.015);
        expect(Math.abs(share(sides, 'validation') - 0.1)).toBeLessThan(0.015);
        expect(Math.abs(share(sides, 'train') - 0.7)).toBeLessThan(0.015);
      }
    }
  });

  it('is deterministic: same seed same split; another seed another split', () => {
    const rows = customerRows(2000, 3);
    const a = splitRows(rows, { ...options, key: 'customer' });
    expect(splitRows(rows, { ...options, key: 'customer' })).toEqual(a);
    const b = splitRows(rows, { ...options, seed: 43, key: 'customer' });
    expect(b.filter((side, i) => side !== a[i]).length).toBeGreaterThan(rows.length / 5);
  });

  it('is stable when rows are added: every earlier row keeps its side', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 300 }), (before, added) => {
        const rows = customerRows(before + added, 9);
        const first = rows.slice(0, before);
        for (const key of ['customer', undefined]) {
          const small = splitRows(first, { ...options, key });
          expect(splitRows(rows, { ...options, key }).slice(0, first.length)).toEqual(small);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('gives no validation rows when validationFraction is 0 (the default)', () => {
    const rows = customerRows(500, 1);
    expect(splitRows(rows, { holdoutFraction: 0.3, seed: 42, key: 'customer' })).not.toContain('validation');
  });

  it('agrees with sideOfGroup, the per-row decision a streaming reader can call', () => {
    const rows = customerRows(100, 5);
    const sides = splitRows(rows, { ...options, key: 'customer' });
    rows.forEach((row, i) => {
      expect(sideOfGroup({ key: row.customer as string }, options)).toBe(sides[i]);
    });
    expect(splitRows(rows, options)).toEqual(rows.map((_, i) => sideOfGroup({ row: i }, options)));
  });

  it('refuses fractions out of range and a key column the rows lack, naming the value', () => {
    const rows = customerRows(10, 1);
    expect(() => splitRows(rows, { holdoutFraction: 0, seed: 1 })).toThrow(
      /holdoutFraction 0 .*between 0 and 1/,
    );
    expect(() => splitRows(rows, { holdoutFraction: 0.5, validationFraction: 0.5, seed: 1 })).toThrow(
      /holdoutFraction 0.5 \+ validationFraction 0.5 leaves no rows to train on/,
    );
    expect(() => splitRows(rows, { holdoutFraction: 0.2, validationFraction: -0.1, seed: 1 })).toThrow(
      /validationFraction -0.1/,
    );
    expect(() => splitRows(rows, { holdoutFraction: 0.2, seed: 1.5 })).toThrow(/seed 1.5/);
    expect(() => splitRows(rows, { ...options, key: 'account' })).toThrow(
      /split key "account" is not a column of row 1 \(columns: customer, spend, churned\)/,
    );
  });
});

describe('splitCsv', () => {
  const rows = customerRows(300, 11).map((r, i) => ({ ...r, note: i % 7 ? 'plain' : 'has, "quotes"' }));
  const text = `customer,spend,churned,note\n${rows
    .map((r) => [r.customer, r.spend, r.churned, `"${r.note.replace(/"/g, '""')}"`].join(','))
    .join('\n')}\n`;

  it('writes train, validation, holdout features (no target) and key-less holdout labels in the same order', () => {
    const split = splitCsv(text, { ...options, target: 'churned', key: 'customer' });
    const sides = splitRows(rows, { ...options, key: 'customer' });
    const train = parseCsv(split.train, 'train');
    const validation = parseCsv(split.validation ?? '', 'validation');
    const features = parseCsv(split.holdoutFeatures, 'features');
    const labels = parseCsv(split.holdoutLabels, 'labels');
    expect(train.columns).toEqual(['customer', 'spend', 'churned', 'note']);
    expect(features.columns).toEqual(['customer', 'spend', 'note']);
    expect(labels.columns).toEqual(['churned']);
    expect(train.rows).toEqual(rows.filter((_, i) => sides[i] === 'train'));
    expect(validation.rows).toEqual(rows.filter((_, i) => sides[i] === 'validation'));
    const holdout = rows.filter((_, i) => sides[i] === 'holdout');
    expect(features.rows).toEqual(holdout.map(({ churned: _c, ...rest }) => rest));
    expect(labels.rows.map((r) => r.churned)).toEqual(holdout.map((r) => r.churned));
    expect(split.counts).toEqual({
      train: train.rows.length,
      validation: validation.rows.length,
      holdout: holdout.length,
    });
    const trainKeys = new Set(train.rows.map((r) => r.customer));
    expect(features.rows.some((r) => trainKeys.has(r.customer as string))).toBe(false);
  });

  it('writes no validation file when validationFraction is 0', () => {
    const split = splitCsv(text, { holdoutFraction: 0.2, seed: 42, target: 'churned' });
    expect(split.validation).toBeUndefined();
    expect(split.counts.validation).toBe(0);
  });

  it('refuses a missing target or key column, and a side left empty, saying what to change', () => {
    expect(() => splitCsv(text, { ...options, target: 'label' })).toThrow(
      /target column "label" is not in the dataset \(columns: customer, spend, churned, note\)/,
    );
    expect(() => splitCsv(text, { ...options, target: 'churned', key: 'account' })).toThrow(
      /split key "account"/,
    );
    const one = 'customer,churned\nc1,0\nc1,1\nc1,0\n';
    expect(() => splitCsv(one, { ...options, target: 'churned', key: 'customer' })).toThrow(
      /(holdout|train) got 0 of 3 rows.*1 distinct "customer" value/,
    );
    const few = 'customer,churned\nc1,0\nc2,1\n';
    expect(() =>
      splitCsv(few, { holdoutFraction: 0.2, validationFraction: 0.1, seed: 42, target: 'churned' }),
    ).toThrow(/got 0 of 2 rows/);
  });
});
