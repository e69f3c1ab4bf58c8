import { describe, expect, it } from 'vitest';
import { loadModel, predictProba, serializeModel } from '../../../lambdas/domain/ml/artifact.js';
import { toCsv } from '../../../lambdas/domain/ml/dataset.js';
import { evaluateModel } from '../../../lambdas/domain/ml/evaluate.js';
import { inputNames } from '../../../lambdas/domain/ml/features.js';
import { parseHyperparameters } from '../../../lambdas/domain/ml/hyperparameters.js';
import { epochLearningRate, fitLogisticRegression } from '../../../lambdas/domain/ml/logistic-regression.js';
import { type TrainOptions, trainOnCsv } from '../../../lambdas/domain/ml/train.js';
import { churnCsv, GENERATING_MODEL } from '../../../local/data/churn.js';

const FIXED_NOW = () => new Date('2026-01-01T00:00:00.000Z');
const options = (overrides: Partial<TrainOptions> = {}): TrainOptions => ({
  model: 'churn',
  target: 'churned',
  exclude: ['player_id'],
  holdoutFraction: 0.2,
  hyperparameters: parseHyperparameters({ epochs: 40, seed: 42 }),
  now: FIXED_NOW,
  ...overrides,
});

describe('logistic regression on the churn generator', () => {
  const csv = churnCsv({ rows: 10_000, seed: 21 });
  const epochs: { epoch: number; holdoutAuc: number | null }[] = [];
  const outcome = trainOnCsv(csv, options({ onEpoch: (r) => epochs.push(r) }));
  const weights = Object.fromEntries(
    inputNames(outcome.artifact.features).map((name, i) => [name, outcome.artifact.weights[i] as number]),
  );

  it('learns the signal: holdout AUC above 0.75, reported every epoch', () => {
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(epochs.at(-1)?.holdoutAuc).toBeGreaterThan(0.75);
    const report = evaluateModel(
      loadModel(serializeModel(outcome.artifact)),
      toCsv(outcome.columns, outcome.holdoutCsvRows),
    );
    expect(report.metrics.auc).toBeGreaterThan(0.75);
    expect(report.rows).toBe(2000);
    // Calibrated on average: mean prediction near the observed churn rate.
    expect(Math.abs(report.meanPrediction - report.positiveRate)).toBeLessThan(0.03);
  });

  it('gives the strongest coefficients the signs of the generating model', () => {
    const truth: Record<string, number> = {
      sessions_per_week: GENERATING_MODEL.sessions_per_week,
      avg_session_minutes: GENERATING_MODEL.log_avg_session_minutes,
      days_since_last_login: GENERATING_MODEL.days_since_last_login,
      purchases_30d: GENERATING_MODEL.purchases_30d,
      level: GENERATING_MODEL.level_per_10,
    };
    const strongest = Object.keys(truth)
      .sort((a, b) => Math.abs(weights[b] ?? 0) - Math.abs(weights[a] ?? 0))
      .slice(0, 3);
    expect(strongest).toEqual(expect.arrayContaining(['sessions_per_week', 'days_since_last_login']));
    for (const name of Object.keys(truth))
      expect(Math.sign(weights[name] ?? 0), name).toBe(Math.sign(truth[name] ?? 0));
    // Categorical effects are contrasts against a reference level.
    const contrast = (a: string, b: string) => (weights[a] ?? 0) - (weights[b] ?? 0);
    expect(Math.sign(contrast('platform=android', 'platform=ios'))).toBe(
      Math.sign(GENERATING_MODEL.platform.android - GENERATING_MODEL.platform.ios),
    );
    expect(Math.sign(contrast('region=latam', 'region=na'))).toBe(
      Math.sign(GENERATING_MODEL.region.latam - GENERATING_MODEL.region.na),
    );
  });

  it('drops excluded columns and never uses the target as a feature', () => {
    expect(outcome.featureColumns).not.toContain('player_id');
    expect(outcome.featureColumns).not.toContain('churned');
    expect(outcome.artifact.features.map((f) => f.name)).toEqual(outcome.featureColumns);
  });

  it('is deterministic: the same data and seed give byte-identical artifacts, another seed does not', () => {
    const again = trainOnCsv(csv, options());
    expect(again.artifact.weights).toEqual(outcome.artifact.weights);
    expect(serializeModel(again.artifact)).toBe(serializeModel(outcome.artifact));
    const other = trainOnCsv(
      csv,
      options({ hyperparameters: parseHyperparameters({ epochs: 40, seed: 43 }) }),
    );
    expect(other.artifact.weights).not.toEqual(outcome.artifact.weights);
  });

  it('predicts the same probability from the loaded artifact as from training, for raw rows too', () => {
    const model = loadModel(serializeModel(outcome.artifact));
    const row = outcome.holdoutCsvRows[0] ?? {};
    const p = predictProba(model, row);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
    const typed = { ...row, sessions_per_week: Number(row.sessions_per_week), avg_session_minutes: null };
    expect(predictProba(model, typed)).toBe(predictProba(model, { ...row, avg_session_minutes: '' }));
    // A heavy player who logged in today is a lower churn risk than a lapsed one.
    const player = {
      sessions_per_week: 12,
      avg_session_minutes: 40,
      purchases_30d: 2,
      level: 30,
      platform: 'pc',
      region: 'na',
    };
    expect(predictProba(model, { ...player, days_since_last_login: 0 })).toBeLessThan(
      predictProba(model, { ...player, days_since_last_login: 20 }),
    );
  });

  it('with early stopping, stops after `patience` epochs without improvement and keeps the best weights', () => {
    const hp = parseHyperparameters({
      epochs: 30,
      earlyStoppingPatience: 2,
      learningRate: 0.5,
      schedule: 'constant',
    });
    const early = trainOnCsv(churnCsv({ rows: 2000, seed: 2 }), options({ hyperparameters: hp }));
    const losses = early.epochs.map((e) => e.holdoutLoss as number);
    const bestEpoch = losses.indexOf(Math.min(...losses)) + 1;
    expect(early.epochs.length).toBe(Math.min(30, bestEpoch + 2));
    const report = evaluateModel(
      loadModel(serializeModel(early.artifact)),
      toCsv(early.columns, early.holdoutCsvRows),
    );
    expect(report.metrics.logLoss).toBeCloseTo(Math.min(...losses), 12);
  });
});

describe('fitLogisticRegression', () => {
  it('anneals the learning rate from the base rate towards zero under the cosine schedule', () => {
    const hp = parseHyperparameters({ epochs: 10, learningRate: 0.2 });
    expect(epochLearningRate(hp, 1)).toBe(0.2);
    expect(epochLearningRate(hp, 6)).toBeCloseTo(0.1, 12);
    expect(epochLearningRate(hp, 10)).toBeLessThan(0.01);
    expect(epochLearningRate({ ...hp, schedule: 'constant' }, 10)).toBe(0.2);
  });

  it('reports a null holdout AUC for a single-class holdout instead of failing the fit', () => {
    const xs = [0, 1, 2, 3, 4, 5].map((v) => Float64Array.of(v));
    const ys = [0, 0, 0, 1, 1, 1];
    const fit = fitLogisticRegression({ xs, ys }, parseHyperparameters({ epochs: 3, batchSize: 2 }), {
      xs: [Float64Array.of(5)],
      ys: [1],
    });
    expect(fit.epochs.map((e) => e.holdoutAuc)).toEqual([null, null, null]);
    expect(fit.epochs.every((e) => e.holdoutLoss !== null)).toBe(true);
    expect(fit.weights[0]).toBeGreaterThan(0);
  });
});

describe('trainOnCsv failures', () => {
  const csv = churnCsv({ rows: 200, seed: 5 });

  it('names a missing target column and lists the columns', () => {
    expect(() => trainOnCsv(csv, options({ target: 'churn' }))).toThrow(
      expect.objectContaining({
        name: 'DataError',
        message: expect.stringMatching(/no target column "churn" \(columns: player_id, /),
      }),
    );
  });

  it('refuses a target that is not binary, naming the row and value', () => {
    expect(() => trainOnCsv(csv, options({ target: 'level' }))).toThrow(
      /target "level" must be binary .* data row 1 has "\d+"/,
    );
  });

  it('refuses an empty or header-only dataset', () => {
    expect(() => trainOnCsv('', options())).toThrow(/dataset is empty/);
    expect(() => trainOnCsv('player_id,churned\n', options())).toThrow(/no data rows/);
  });

  it('refuses a single-class target and a tiny dataset', () => {
    const allStay = csv.replace(/,1\n/g, ',0\n');
    expect(() => trainOnCsv(allStay, options())).toThrow(
      /target "churned" is 0 on every one of the \d+ training rows/,
    );
    expect(() => trainOnCsv(csv.split('\n').slice(0, 11).join('\n'), options())).toThrow(
      /10 rows; at least 20/,
    );
  });

  it('refuses the target in exclude, and warns about excludes the data does not have', () => {
    expect(() => trainOnCsv(csv, options({ exclude: ['churned'] }))).toThrow(/also listed in exclude/);
    const warnings: string[] = [];
    trainOnCsv(csv, options({ exclude: ['player_id', 'user_id'], onWarning: (w) => warnings.push(w) }));
    expect(warnings).toEqual(['exclude lists columns the dataset does not have: user_id']);
  });

  it('warns when an identifier column was not excluded', () => {
    const warnings: string[] = [];
    trainOnCsv(csv, options({ exclude: [], onWarning: (w) => warnings.push(w) }));
    expect(warnings.join('\n')).toMatch(/column "player_id" has a distinct value on every row/);
  });
});
