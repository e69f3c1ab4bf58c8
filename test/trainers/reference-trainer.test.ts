import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureTask } from '../../lambdas/domain/ml/task-metrics.js';
import { churnCsv } from '../../local/data/churn.js';
import { loadTrainer } from '../../local/trainers/manifest.js';
import {
  dropColumns,
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
 * containers/trainer (the reference trainer: TypeScript logistic regression) under contract v1,
 * through the local runner with the `node` runtime: train on generated churn rows, predict a
 * holdout it never saw from CSV and from JSON Lines, and let the platform measure it.
 */

const TRAINER = 'containers/trainer';
const TARGET = 'churned';
const ws = workspace('reference-trainer');
afterAll(() => ws.remove());

const parts = splitRows(dropColumns(readTable(churnCsv({ rows: 2600, seed: 31 })), ['player_id']), {
  train: 1800,
  validation: 400,
  holdout: 400,
});
const holdout = predictInput(parts.holdout, TARGET);
const NUMERIC = [
  'sessions_per_week',
  'avg_session_minutes',
  'days_since_last_login',
  'purchases_30d',
  'level',
];
const hyperparameters = { epochs: 15 };

let trained: TrainOutcome;
let again: TrainOutcome;
beforeAll(async () => {
  const inputs = {
    trainer: TRAINER,
    ws,
    task: 'binary',
    target: TARGET,
    train: write(ws.path('train.csv'), tableCsv(parts.train)),
    validation: write(ws.path('validation.csv'), tableCsv(parts.validation)),
    hyperparameters,
  } as const;
  write(ws.path('holdout.csv'), tableCsv(holdout.input));
  write(ws.path('holdout.jsonl'), tableJsonl(holdout.input, NUMERIC));
  [trained, again] = await Promise.all([
    train({ ...inputs, run: 'main' }),
    train({ ...inputs, run: 'again' }),
  ]);
});

describe('reference trainer (binary, TypeScript logistic regression, node runtime)', () => {
  it('declares contract v1: binary, node, the hyperparameters of the domain code with their defaults', () => {
    const { manifest } = loadTrainer(TRAINER);
    expect(manifest).toMatchObject({
      contract: 'mlcycle.trainer/v1',
      name: 'trainer',
      tasks: ['binary'],
      train: ['node', 'train.mjs'],
      predict: ['node', 'predict.mjs'],
      local: { runtime: 'node' },
    });
    expect(manifest.hyperparameters).toMatchObject({
      learningRate: { type: 'number', default: 0.05 },
      epochs: { type: 'integer', default: 40 },
      l2: { type: 'number', default: 0.001 },
      batchSize: { type: 'integer', default: 256 },
      seed: { type: 'integer', default: 42 },
    });
  });

  it('trains: model/, one metrics line per epoch with validation loss, a model card, reported metrics', () => {
    expect(trained.exitCode, logOf(trained)).toBe(0);
    expect(trained.runtime.runtime).toBe('node');
    const out = trained.outputDir;
    expect(readdirSync(`${out}/model`)).toEqual(['model.json']);
    const metrics = readJsonl(`${out}/metrics.jsonl`);
    expect(metrics.map((m) => m.epoch)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(metrics[0]).toMatchObject({ trainLoss: expect.any(Number), validationLoss: expect.any(Number) });
    const card = readJson(`${out}/model-card.json`);
    expect(card).toMatchObject({
      framework: expect.stringContaining('mlcycle-logreg'),
      algorithm: expect.any(String),
    });
    expect(card.training).toMatchObject({
      trainRows: 1800,
      validationRows: 400,
      hyperparameters: { epochs: 15, seed: 42 },
    });
    const reported = readJson(`${out}/reported-metrics.json`);
    expect(reported.validationAuc).toBeGreaterThan(0.7);
  });

  it('is deterministic: the same job twice gives the same model bytes (trainedAt aside)', () => {
    const strip = (dir: string) => {
      const { trainedAt: _t, ...rest } = JSON.parse(readFileSync(`${dir}/model/model.json`, 'utf8'));
      return rest;
    };
    expect(again.exitCode, logOf(again)).toBe(0);
    expect(strip(again.outputDir)).toEqual(strip(trained.outputDir));
  });

  it('predicts the unseen holdout from CSV and JSON Lines alike, and the platform measures it', async () => {
    const modelDir = `${trained.outputDir}/model`;
    const fromCsv = await predict(TRAINER, ws, 'main', 'binary', modelDir, ws.path('holdout.csv'));
    expect(fromCsv.exitCode, logOf(fromCsv)).toBe(0);
    const fromJsonl = await predict(TRAINER, ws, 'main', 'binary', modelDir, ws.path('holdout.jsonl'));
    expect(fromJsonl.exitCode, logOf(fromJsonl)).toBe(0);
    const a = predictionsOf('binary', fromCsv.text, holdout.labels.length);
    const b = predictionsOf('binary', fromJsonl.text, holdout.labels.length);
    expect(b).toEqual(a);
    const { metrics } = measureTask('binary', holdout.labels, a);
    expect(metrics.auc).toBeGreaterThan(0.7);
    expect(metrics.logLoss).toBeLessThan(0.69);
  });

  it('reads input columns by name: reordered and extra columns give the same predictions', async () => {
    const modelDir = `${trained.outputDir}/model`;
    const reordered = {
      columns: ['extra', ...[...holdout.input.columns].reverse()],
      rows: holdout.input.rows.map((r) => ['x', ...[...r].reverse()]),
    };
    const path = write(ws.path('reordered.csv'), tableCsv(reordered));
    const [base, moved] = await Promise.all([
      predict(TRAINER, ws, 'main', 'binary', modelDir, ws.path('holdout.csv')),
      predict(TRAINER, ws, 'main', 'binary', modelDir, path),
    ]);
    expect(moved.exitCode, logOf(moved)).toBe(0);
    expect(moved.text).toBe(base.text);
  });

  it('gives an empty file for an empty input', async () => {
    const modelDir = `${trained.outputDir}/model`;
    const empty = write(ws.path('empty.jsonl'), '');
    const header = write(ws.path('header.csv'), `${holdout.input.columns.join(',')}\n`);
    for (const input of [empty, header]) {
      const out = await predict(TRAINER, ws, 'main', 'binary', modelDir, input);
      expect(out.exitCode, logOf(out)).toBe(0);
      expect(out.text).toBe('');
    }
  });

  it('refuses what it cannot train with one line on stderr and exit code 1', async () => {
    const multiclass = await train({
      trainer: TRAINER,
      ws,
      run: 'multiclass',
      task: 'multiclass',
      target: TARGET,
      train: ws.path('train.csv'),
    });
    expect(multiclass.exitCode).toBe(1);
    expect(multiclass.lastStderrLine).toMatch(
      /^trainer: task multiclass is not supported: this trainer does binary$/,
    );
    const noTarget = await train({
      trainer: TRAINER,
      ws,
      run: 'no-target',
      task: 'binary',
      target: 'label',
      train: ws.path('train.csv'),
    });
    expect(noTarget.exitCode).toBe(1);
    expect(noTarget.lastStderrLine).toMatch(
      /MLCYCLE_TRAIN has no target column "label" \(columns: sessions_per_week,/,
    );
    const broken = write(
      ws.path('broken.csv'),
      `${parts.train.columns.join(',')}\n${'1,'.repeat(parts.train.columns.length - 1)}maybe\n`,
    );
    const bad = await train({
      trainer: TRAINER,
      ws,
      run: 'bad-label',
      task: 'binary',
      target: TARGET,
      train: broken,
    });
    expect(bad.exitCode).toBe(1);
    expect(bad.lastStderrLine).toMatch(/data row 1 has "maybe"/);
  });

  it('refuses a predict input that lacks a feature column, naming it', async () => {
    const modelDir = `${trained.outputDir}/model`;
    const path = write(ws.path('no-level.csv'), tableCsv(dropColumns(holdout.input, ['level'])));
    const out = await predict(TRAINER, ws, 'main', 'binary', modelDir, path);
    expect(out.exitCode).toBe(1);
    expect(out.lastStderrLine).toMatch(/MLCYCLE_INPUT has no column "level"/);
  });
});
