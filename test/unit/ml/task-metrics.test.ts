import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TaskType } from '../../../lambdas/contracts/trainer.js';
import type { Prediction } from '../../../lambdas/domain/ml/predictions.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { measureTask } from '../../../lambdas/domain/ml/task-metrics.js';
import { fromRoot } from '../../../lib/paths.js';

interface ReferenceCase {
  task: TaskType;
  labels: string[];
  predictions: Prediction[];
  metrics: Record<string, number>;
  perClass?: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  classes?: string[];
}

/** Computed once by test/fixtures/task-metrics/generate.py with scikit-learn (seeded). */
const reference = JSON.parse(
  readFileSync(fromRoot('test/fixtures/task-metrics/sklearn-reference.json'), 'utf8'),
) as { sklearn: string; cases: ReferenceCase[] };

describe('measureTask: binary', () => {
  it('matches hand-computed values, ties in AUC by average rank', () => {
    // Scores 0.2 0.6 0.6 0.9 for labels 0 0 1 1: pairs (1@0.6 vs 0@0.2) 1, (1@0.6 vs 0@0.6) ½,
    // (1@0.9 vs both) 2 → 3.5/4. At 0.5: predicted 0 1 1 1 → tp 2, fp 1, tn 1, fn 0.
    const { metrics, details } = measureTask('binary', ['0', '0', '1', '1'], [0.2, 0.6, 0.6, 0.9]);
    expect(metrics.auc).toBeCloseTo(0.875, 12);
    expect(metrics.accuracy).toBeCloseTo(0.75, 12);
    expect(metrics.precision).toBeCloseTo(2 / 3, 12);
    expect(metrics.recall).toBe(1);
    expect(metrics.f1).toBeCloseTo(0.8, 12);
    const expectedLoss = -(Math.log(0.8) + Math.log(0.4) + Math.log(0.6) + Math.log(0.9)) / 4;
    expect(metrics.logLoss).toBeCloseTo(expectedLoss, 12);
    expect(details).toMatchObject({
      task: 'binary',
      rows: 4,
      positives: 2,
      confusion: { tp: 2, fp: 1, tn: 1, fn: 0 },
    });
  });

  it('clips a confident mistake at 1e-15 rather than reporting infinity', () => {
    const { metrics } = measureTask('binary', ['1', '0'], [0, 0]);
    expect(metrics.logLoss).toBeCloseTo(-Math.log(1e-15) / 2, 6);
  });

  it('reads 1/0 in any numeric spelling and true/false, like the datasets do', () => {
    const a = measureTask('binary', ['1.0', ' 0 ', 'TRUE', 'false'], [0.9, 0.1, 0.8, 0.3]);
    const b = measureTask('binary', ['1', '0', '1', '0'], [0.9, 0.1, 0.8, 0.3]);
    expect(a.metrics).toEqual(b.metrics);
  });

  it('refuses a label that is not binary, naming the row and the value', () => {
    expect(() => measureTask('binary', ['1', '0', 'yes'], [0.5, 0.5, 0.5])).toThrow(
      /holdout row 3: the label is "yes".*0\/1.*task: multiclass/,
    );
    expect(() => measureTask('binary', ['1', '2'], [0.5, 0.5])).toThrow(/holdout row 2: the label is "2"/);
    expect(() => measureTask('binary', ['1', ''], [0.5, 0.5])).toThrow(/holdout row 2: the label is ""/);
  });

  it('refuses a prediction that is not a probability', () => {
    expect(() => measureTask('binary', ['1', '0'], [0.5, 1.5])).toThrow(/holdout row 2: the prediction 1.5/);
    expect(() => measureTask('binary', ['1', '0'], [0.5, { a: 1 }])).toThrow(
      /holdout row 2: the prediction is \{"a":1\}/,
    );
  });

  it('refuses a holdout with one class (AUC needs both)', () => {
    expect(() => measureTask('binary', ['1', '1'], [0.5, 0.7])).toThrow(/both classes/);
  });
});

describe('measureTask: multiclass', () => {
  it('matches hand-computed values', () => {
    const labels = ['a', 'b', 'c', 'a'];
    const predictions = [
      { a: 0.7, b: 0.2, c: 0.1 }, // → a, right
      { a: 0.5, b: 0.4, c: 0.1 }, // → a, wrong
      { a: 0.1, b: 0.1, c: 0.8 }, // → c, right
      { a: 0.4, b: 0.4, c: 0.2 }, // tie a/b → a (first in sorted order), right
    ];
    const { metrics, details } = measureTask('multiclass', labels, predictions);
    expect(metrics.accuracy).toBeCloseTo(0.75, 12);
    // a: tp 2 fp 1 fn 0 → p 2/3 r 1 f1 0.8; b: tp 0 fn 1 → 0; c: 1 1 1 → macro (0.8+0+1)/3.
    expect(metrics.macroF1).toBeCloseTo(0.6, 12);
    expect(metrics.logLoss).toBeCloseTo(
      -(Math.log(0.7) + Math.log(0.4) + Math.log(0.8) + Math.log(0.4)) / 4,
      12,
    );
    expect(details).toMatchObject({
      task: 'multiclass',
      classes: ['a', 'b', 'c'],
      perClass: { a: { precision: 2 / 3, recall: 1, support: 2 }, b: { f1: 0, support: 1 } },
    });
  });

  it('counts a class only predicted, and a true label the row does not name as probability 0 (clipped)', () => {
    const { metrics, details } = measureTask(
      'multiclass',
      ['x', 'y'],
      [
        { x: 0.9, z: 0.1 },
        { x: 0.2, z: 0.8 },
      ],
    );
    // classes x, y, z: x f1 1, y 0 (never predicted), z 0 (predicted, wrong) → macro 1/3.
    expect(details).toMatchObject({ classes: ['x', 'y', 'z'] });
    expect(metrics.macroF1).toBeCloseTo(1 / 3, 12);
    expect(metrics.logLoss).toBeCloseTo((-Math.log(0.9) - Math.log(1e-15)) / 2, 9);
  });

  it('refuses a prediction that is not {label: probability}', () => {
    expect(() => measureTask('multiclass', ['a', 'b'], [{ a: 1, b: 0 }, 0.3])).toThrow(
      /holdout row 2: the prediction is 0.3, expected \{label: probability\}/,
    );
    expect(() => measureTask('multiclass', ['a'], [{ a: 2 }])).toThrow(/row 1: the probability of "a" is 2/);
  });
});

describe('measureTask: regression', () => {
  it('matches hand-computed values', () => {
    // errors 0.5, -1, 0, 2.5 → mse (0.25+1+0+6.25)/4 = 1.875; mae 1; mean y 2.5, sst 5.
    const { metrics, details } = measureTask('regression', ['1', '2', '3', '4'], [1.5, 1, 3, 6.5]);
    expect(metrics.rmse).toBeCloseTo(Math.sqrt(1.875), 12);
    expect(metrics.mae).toBeCloseTo(1, 12);
    expect(metrics.r2).toBeCloseTo(1 - 7.5 / 5, 12);
    expect(details).toMatchObject({ task: 'regression', rows: 4, meanLabel: 2.5, constantTarget: false });
  });

  it('scores a constant target 1 for a perfect fit and 0 otherwise, as scikit-learn does, and says so', () => {
    expect(measureTask('regression', ['3', '3'], [3, 3]).metrics.r2).toBe(1);
    const off = measureTask('regression', ['3', '3'], [2, 5]);
    expect(off.metrics.r2).toBe(0);
    expect(off.details).toMatchObject({ constantTarget: true });
  });

  it('refuses a label that is not a number, naming the row and the value', () => {
    expect(() => measureTask('regression', ['1', 'n/a', '3'], [1, 2, 3])).toThrow(
      /holdout row 2: the label is "n\/a", but a regression task needs a finite number/,
    );
    expect(() => measureTask('regression', ['1', ' '], [1, 2])).toThrow(/holdout row 2/);
    expect(() => measureTask('regression', ['1', 'Infinity'], [1, 2])).toThrow(/holdout row 2/);
  });

  it('refuses a prediction that is not a number', () => {
    expect(() => measureTask('regression', ['1', '2'], [1, { a: 1 }])).toThrow(
      /holdout row 2: the prediction/,
    );
  });
});

describe('measureTask: shape', () => {
  it('refuses mismatched lengths and an empty holdout', () => {
    expect(() => measureTask('regression', ['1', '2'], [1])).toThrow(/2 holdout labels but 1 predictions/);
    expect(() => measureTask('binary', [], [])).toThrow(/holdout is empty/);
  });
});

describe('measureTask against scikit-learn', () => {
  for (const c of reference.cases) {
    it(`${c.task}: ${c.labels.length} seeded rows agree with scikit-learn ${reference.sklearn}`, () => {
      const { metrics, details } = measureTask(c.task, c.labels, c.predictions);
      expect(Object.keys(metrics).sort()).toEqual(Object.keys(c.metrics).sort());
      for (const [name, value] of Object.entries(c.metrics))
        expect(metrics[name], name).toBeCloseTo(value, 9);
      if (details.task === 'multiclass') {
        expect(details.classes).toEqual(c.classes);
        for (const [label, scores] of Object.entries(c.perClass ?? {})) {
          for (const [k, v] of Object.entries(scores)) {
            expect(details.perClass[label]?.[k as keyof typeof scores], `${label}.${k}`).toBeCloseTo(v, 9);
          }
        }
      }
    });
  }

  const python = '/usr/bin/python3';
  const hasSklearn = existsSync(python) && spawnSync(python, ['-c', 'import sklearn']).status === 0;
  it.runIf(hasSklearn)('binary and regression agree with scikit-learn run live on fresh seeded data', () => {
    const random = new Random(7);
    const y = Array.from({ length: 200 }, () => (random.next() < 0.4 ? 1 : 0));
    const p = y.map((v) => Math.round(Math.min(1, Math.max(0, 0.35 * v + random.next() * 0.65)) * 20) / 20);
    const t = y.map((v) => v * 4 + random.normal());
    const q = t.map((v) => v + random.normal(0, 0.7));
    const script = `
import json, sys
from sklearn import metrics as m
d = json.load(sys.stdin)
y, p, t, q = d["y"], d["p"], d["t"], d["q"]
print(json.dumps({"auc": m.roc_auc_score(y, p), "logLoss": m.log_loss(y, p), "r2": m.r2_score(t, q),
  "mae": m.mean_absolute_error(t, q), "f1": m.f1_score(y, [int(v >= 0.5) for v in p])}))`;
    const run = spawnSync(python, ['-c', script], {
      input: JSON.stringify({ y, p, t, q }),
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const expected = JSON.parse(run.stdout) as Record<string, number>;
    const binary = measureTask('binary', y.map(String), p).metrics;
    const regression = measureTask('regression', t.map(String), q).metrics;
    expect(binary.auc).toBeCloseTo(expected.auc as number, 9);
    expect(binary.logLoss).toBeCloseTo(expected.logLoss as number, 9);
    expect(binary.f1).toBeCloseTo(expected.f1 as number, 9);
    expect(regression.r2).toBeCloseTo(expected.r2 as number, 9);
    expect(regression.mae).toBeCloseTo(expected.mae as number, 9);
  });
});
