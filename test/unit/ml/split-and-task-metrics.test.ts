import { describe, expect, it } from 'vitest';
import { splitRows } from '../../../lambdas/domain/ml/split.js';
import { packTar, unpackTar } from '../../../lambdas/domain/ml/tar.js';
import { measureTask } from '../../../lambdas/domain/ml/task-metrics.js';

const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    player_id: `p${Math.floor(i / 3)}`,
    x: String(i),
    y: String(i % 2),
  }));

describe('splitRows (seeded, keyed)', () => {
  it('keeps every row of a key on one side, and the sizes near the fractions', () => {
    const data = rows(3000);
    const parts = splitRows(data, {
      holdoutFraction: 0.2,
      validationFraction: 0.1,
      seed: 42,
      key: 'player_id',
    });
    const side = new Map<string, string>();
    for (const [name, part] of Object.entries(parts)) {
      for (const r of part) {
        expect(side.get(r.player_id) ?? name).toBe(name);
        side.set(r.player_id, name);
      }
    }
    expect(parts.train.length + parts.validation.length + parts.holdout.length).toBe(3000);
    expect(parts.holdout.length / 3000).toBeGreaterThan(0.15);
    expect(parts.holdout.length / 3000).toBeLessThan(0.25);
    expect(parts.validation.length / 3000).toBeGreaterThan(0.06);
  });

  it('is stable: a row’s side depends on (seed, key) only, not on order or other rows', () => {
    const data = rows(600);
    const a = splitRows(data, { holdoutFraction: 0.3, validationFraction: 0, seed: 7, key: 'player_id' });
    const b = splitRows([...data].reverse().slice(0, 450), {
      holdoutFraction: 0.3,
      validationFraction: 0,
      seed: 7,
      key: 'player_id',
    });
    const inA = new Set(a.holdout.map((r) => r.x));
    for (const r of b.holdout) expect(inA.has(r.x)).toBe(true);
    const other = splitRows(data, { holdoutFraction: 0.3, validationFraction: 0, seed: 8, key: 'player_id' });
    expect(other.holdout.map((r) => r.x)).not.toEqual(a.holdout.map((r) => r.x));
  });

  it('refuses a split that leaves one side empty, saying what the dataset needs', () => {
    const one = [
      { player_id: 'p1', x: '1' },
      { player_id: 'p1', x: '2' },
    ];
    expect(() =>
      splitRows(one, { holdoutFraction: 0.2, validationFraction: 0, seed: 1, key: 'player_id' }),
    ).toThrow(/the dataset needs more distinct player_id values/);
  });
});

describe('measureTask', () => {
  it('regression: rmse, mae and r2 by hand', () => {
    const { metrics } = measureTask('regression', ['1', '2', '3', '4'], [1, 2, 3, 5]);
    expect(metrics.rmse).toBeCloseTo(0.5, 12);
    expect(metrics.mae).toBeCloseTo(0.25, 12);
    expect(metrics.r2).toBeCloseTo(1 - 1 / 5, 12);
  });

  it('multiclass: accuracy, macro-F1 and log loss by hand', () => {
    const p = (a: number, b: number) => ({ a, b });
    const { metrics } = measureTask(
      'multiclass',
      ['a', 'a', 'b', 'b'],
      [p(0.9, 0.1), p(0.4, 0.6), p(0.2, 0.8), p(0.3, 0.7)],
    );
    expect(metrics.accuracy).toBe(0.75);
    // a: precision 1, recall 0.5 → F1 2/3; b: precision 2/3, recall 1 → F1 0.8.
    expect(metrics.macroF1).toBeCloseTo((2 / 3 + 0.8) / 2, 12);
    expect(metrics.logLoss).toBeCloseTo(
      -(Math.log(0.9) + Math.log(0.4) + Math.log(0.8) + Math.log(0.7)) / 4,
      12,
    );
  });

  it('binary: a constant score has AUC 0.5 whatever it claims elsewhere; a bad label is named', () => {
    expect(measureTask('binary', ['0', '1', '1', '0'], [0.5, 0.5, 0.5, 0.5]).metrics.auc).toBe(0.5);
    expect(() => measureTask('binary', ['0', 'yes'], [0.1, 0.2])).toThrow(
      /holdout label 2 is "yes", not 0 or 1/,
    );
  });
});

describe('the artifact tar', () => {
  it('is deterministic (sorted, mtime 0) and reads back', () => {
    const files = [
      { path: 'weights/b.bin', data: Buffer.from([1, 2, 3]) },
      { path: 'a.json', data: Buffer.from('{"x":1}') },
    ];
    const once = packTar(files);
    expect(packTar([...files].reverse()).equals(once)).toBe(true);
    expect(unpackTar(once).map((e) => [e.path, e.data.toString('hex')])).toEqual([
      ['a.json', Buffer.from('{"x":1}').toString('hex')],
      ['weights/b.bin', '010203'],
    ]);
  });

  it('refuses an entry that would leave the model folder', () => {
    const evil = packTar([{ path: 'x', data: Buffer.from('1') }]);
    evil.write('../evil', 0, 'utf8');
    expect(() => unpackTar(evil)).toThrow(/outside the model folder/);
  });
});
