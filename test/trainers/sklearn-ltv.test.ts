import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLtvRows, LTV_TARGET, ltvCsv } from '../../local/data/ltv.js';
import {
  logOf,
  predict,
  predictInput,
  predictionsOf,
  readJson,
  readJsonl,
  readTable,
  splitRows,
  type TrainOutcome,
  tableCsv,
  tableJsonl,
  train,
  workspace,
  write,
} from './support.js';

/**
 * containers/sklearn-ltv through the contract, as the platform will run it: train on a generated
 * LTV table (player_id left in, to see it ignored), predict the holdout it never saw, and
 * measure the predictions against the generating model's truth.
 */

const TRAINER = 'containers/sklearn-ltv';
const ws = workspace('sklearn-ltv');
afterAll(() => ws.remove());

const SEED = 21;
const counts = { train: 2000, validation: 500, holdout: 500 };
const parts = splitRows(readTable(ltvCsv({ rows: 3000, seed: SEED })), counts);
const truth = [...generateLtvRows({ rows: 3000, seed: SEED })]
  .slice(counts.train + counts.validation)
  .map((r) => r.expected_ltv_90d);
const holdout = predictInput(parts.holdout, LTV_TARGET);
const NUMERIC = [
  'level',
  'sessions_per_week',
  'avg_session_minutes',
  'days_since_last_login',
  'purchases_30d',
  'spend_30d',
];

const r2 = (y: readonly number[], predicted: readonly number[]) => {
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  const sse = y.reduce((s, v, i) => s + (v - (predicted[i] as number)) ** 2, 0);
  return 1 - sse / y.reduce((s, v) => s + (v - mean) ** 2, 0);
};

let trained: TrainOutcome;
let again: TrainOutcome;
beforeAll(async () => {
  const inputs = {
    trainer: TRAINER,
    ws,
    task: 'regression',
    target: LTV_TARGET,
    train: write(ws.path('train.csv'), tableCsv(parts.train)),
    validation: write(ws.path('validation.csv'), tableCsv(parts.validation)),
  } as const;
  // Two runs of the same job side by side: the second shows the trainer is deterministic.
  [trained, again] = await Promise.all([
    train({ ...inputs, run: 'main' }),
    train({ ...inputs, run: 'again' }),
  ]);
});

describe('sklearn-ltv (regression, scikit-learn)', () => {
  it('trains: model/, per-iteration metrics, a model card and reported metrics', () => {
    expect(trained.exitCode, logOf(trained)).toBe(0);
    expect(trained.runtime.modules).toHaveProperty('sklearn');
    const out = trained.outputDir;
    expect(readdirSync(`${out}/model`).sort()).toEqual(['model.joblib', 'preprocessing.json']);
    const metrics = readJsonl(`${out}/metrics.jsonl`);
    expect(metrics.length).toBeGreaterThanOrEqual(10);
    expect(metrics.map((m) => m.iteration)).toEqual(metrics.map((_, i) => i + 1));
    for (const key of ['trainRmse', 'validationRmse', 'validationMae', 'validationR2']) {
      expect(typeof metrics.at(-1)?.[key], key).toBe('number');
    }
    const card = readJson(`${out}/model-card.json`);
    expect(card).toMatchObject({
      task: 'regression',
      target: LTV_TARGET,
      framework: expect.stringMatching(/^scikit-learn 1\./),
    });
    expect(card.intendedUse).toEqual(expect.any(String));
    expect((card.features as { name: string }[]).map((f) => f.name)).toContain('spend_30d');
    expect(card.ignoredColumns).toEqual([expect.objectContaining({ name: 'player_id' })]);
    expect(readJson(`${out}/reported-metrics.json`)).toEqual({
      validationRmse: expect.any(Number),
      validationMae: expect.any(Number),
      validationR2: expect.any(Number),
    });
    expect(readdirSync(trained.checkpointDir)).toEqual([]); // fast enough to need none
  });

  it('predicts the holdout it never saw (JSON Lines), close to the best possible model', async () => {
    // The holdout as JSON Lines, plus a row with nulls and categories training never saw.
    const odd = `${JSON.stringify({ platform: 'vr', region: null, level: 3 })}\n`;
    const input = write(ws.path('holdout.jsonl'), tableJsonl(holdout.input, NUMERIC) + odd);
    const result = await predict(TRAINER, ws, 'main', 'regression', `${trained.outputDir}/model`, input);
    expect(result.exitCode, logOf(result)).toBe(0);
    const predicted = predictionsOf('regression', result.text, holdout.labels.length + 1) as number[];
    const actual = holdout.labels.map(Number);
    const model = r2(actual, predicted.slice(0, -1));
    const best = r2(actual, truth);
    expect(model).toBeGreaterThan(0.45);
    expect(model).toBeGreaterThan(best - 0.15);
  });

  it('is deterministic for a seed', () => {
    expect(again.exitCode, logOf(again)).toBe(0);
    expect(readJsonl(`${again.outputDir}/metrics.jsonl`)).toEqual(
      readJsonl(`${trained.outputDir}/metrics.jsonl`),
    );
    expect(readJson(`${again.outputDir}/reported-metrics.json`)).toEqual(
      readJson(`${trained.outputDir}/reported-metrics.json`),
    );
  });

  it('refuses a wrong task or a missing target in one stderr line, exit 1, no model', async () => {
    const [wrongTask, noTarget] = await Promise.all([
      train({
        trainer: TRAINER,
        ws,
        run: 'task',
        task: 'binary',
        target: LTV_TARGET,
        train: ws.path('train.csv'),
      }),
      train({
        trainer: TRAINER,
        ws,
        run: 'target',
        task: 'regression',
        target: 'ltv_30d',
        train: ws.path('train.csv'),
      }),
    ]);
    expect(wrongTask.exitCode).toBe(1);
    expect(wrongTask.lastStderrLine).toBe(
      'sklearn-ltv: task binary is not supported: this trainer does regression (trainer.yaml tasks)',
    );
    expect(noTarget.exitCode).toBe(1);
    expect(noTarget.lastStderrLine).toMatch(
      /^sklearn-ltv: target column ltv_30d is not in MLCYCLE_TRAIN \(columns: player_id,/,
    );
    expect(existsSync(`${noTarget.outputDir}/model`)).toBe(false);
  });
});
