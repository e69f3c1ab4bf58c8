import { existsSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSegmentRows, SEGMENT_TARGET, SEGMENTS, segmentsCsv } from '../../local/data/segments.js';
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
  type TrainRequest,
  tableCsv,
  train,
  workspace,
  write,
} from './support.js';

/**
 * containers/torch-segment through the contract: train on a generated segment table (player_id
 * excluded, as the platform does), predict the holdout, compare with the generating model; then
 * kill a run mid-training and restart it with the same checkpoint folder, as Batch retries a job
 * after a Spot reclaim.
 */

const TRAINER = 'containers/torch-segment';
const ws = workspace('torch-segment');
afterAll(() => ws.remove());

const SEED = 31;
const counts = { train: 3000, validation: 600, holdout: 600 };
const table = dropColumns(readTable(segmentsCsv({ rows: 4200, seed: SEED })), ['player_id']);
const parts = splitRows(table, counts);
const truth = [...generateSegmentRows({ rows: 4200, seed: SEED })].slice(counts.train + counts.validation);
const holdout = predictInput(parts.holdout, SEGMENT_TARGET);

/** A run long enough (~1 s after epoch 2 on a loaded CPU) to be killed in the middle. */
const LONG = { epochs: 24, hidden_units: 256, seed: 3 };

const job = (run: string, extra: Partial<TrainRequest> = {}): TrainRequest => ({
  trainer: TRAINER,
  ws,
  run,
  task: 'multiclass',
  target: SEGMENT_TARGET,
  train: ws.path('train.csv'),
  validation: ws.path('validation.csv'),
  ...extra,
});

let trained: TrainOutcome;
let uninterrupted: TrainOutcome;
beforeAll(async () => {
  write(ws.path('train.csv'), tableCsv(parts.train));
  write(ws.path('validation.csv'), tableCsv(parts.validation));
  // A truncated checkpoint from some earlier attempt: the trainer must start afresh, not fail.
  const stale = write(`${ws.dir('main', 'checkpoint')}/checkpoint.pt`, 'PK\u0003\u0004 truncated');
  [trained, uninterrupted] = await Promise.all([
    train(job('main', { useGpu: true, checkpointDir: dirname(stale) })),
    train(job('uninterrupted', { hyperparameters: LONG })),
  ]);
});

describe('torch-segment (multiclass, PyTorch)', () => {
  it('trains: model/, per-epoch metrics, checkpoint, model card and reported metrics', () => {
    expect(trained.exitCode, logOf(trained)).toBe(0);
    const out = trained.outputDir;
    expect(readdirSync(`${out}/model`).sort()).toEqual(['model.json', 'weights.pt']);
    const metrics = readJsonl(`${out}/metrics.jsonl`);
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const key of ['trainLoss', 'validationLoss', 'validationAccuracy', 'validationMacroF1']) {
      expect(typeof metrics.at(-1)?.[key], key).toBe('number');
    }
    expect((metrics.at(-1)?.trainLoss as number) < (metrics[0]?.trainLoss as number)).toBe(true);
    expect(readdirSync(trained.checkpointDir)).toEqual(['checkpoint.pt']);
    // The unreadable checkpoint it found was ignored, said so, and replaced.
    expect(trained.stdout.some((l) => l.includes('"event": "checkpoint-unreadable"'))).toBe(true);
    expect(metrics.some((m) => 'resumedFromEpoch' in m)).toBe(false);
    const card = readJson(`${out}/model-card.json`);
    expect(card).toMatchObject({
      task: 'multiclass',
      target: SEGMENT_TARGET,
      framework: expect.stringMatching(/^PyTorch /),
    });
    expect(Object.keys(card.classes as object).sort()).toEqual([...SEGMENTS].sort());
    expect(readJson(`${out}/reported-metrics.json`)).toMatchObject({
      validationAccuracy: expect.any(Number),
    });
  });

  it('uses the GPU when one is allocated, and says so when it cannot', () => {
    const card = readJson(`${trained.outputDir}/model-card.json`);
    const device = (card.training as { device: string }).device;
    expect(['cpu', 'cuda']).toContain(device);
    if (device === 'cpu')
      expect(card.notes).toEqual([expect.stringMatching(/MLCYCLE_USE_GPU=1 but PyTorch sees no CUDA/)]);
  });

  it('predicts {segment: probability} for the holdout (CSV), near the best possible accuracy', async () => {
    // The holdout, plus a row with blanks and categories training never saw.
    const odd = holdout.input.columns.map((c) => (c === 'platform' ? 'vr' : c === 'level' ? '3' : ''));
    const input = write(
      ws.path('holdout.csv'),
      tableCsv({ ...holdout.input, rows: [...holdout.input.rows, odd] }),
    );
    const result = await predict(TRAINER, ws, 'main', 'multiclass', `${trained.outputDir}/model`, input);
    expect(result.exitCode, logOf(result)).toBe(0);
    const predicted = predictionsOf('multiclass', result.text, holdout.labels.length + 1) as Record<
      string,
      number
    >[];
    const top = (p: Readonly<Record<string, number>>) =>
      Object.entries(p).sort((a, b) => b[1] - a[1])[0]?.[0];
    const accuracy = (guess: (i: number) => string | undefined) =>
      holdout.labels.filter((label, i) => guess(i) === label).length / holdout.labels.length;
    const model = accuracy((i) => top(predicted[i] as Record<string, number>));
    const best = accuracy((i) => top(truth[i]?.segment_probabilities ?? {}));
    const majority = accuracy(() => 'casual');
    expect(model).toBeGreaterThan(majority + 0.1);
    expect(model).toBeGreaterThan(best - 0.08);
  });

  it('killed mid-training, resumes from its last checkpoint and ends where an uninterrupted run does', async () => {
    expect(uninterrupted.exitCode, logOf(uninterrupted)).toBe(0);
    const stop = new AbortController();
    const killed = await train(
      job('attempt-1', {
        hyperparameters: LONG,
        extra: {
          signal: stop.signal,
          killSignal: 'SIGKILL', // a reclaimed instance: no chance to clean up
          onOutput: (line) => {
            const epoch = line.startsWith('{') ? (JSON.parse(line) as { epoch?: number }).epoch : undefined;
            if (epoch !== undefined && epoch >= 2) stop.abort();
          },
        },
      }),
    );
    expect(killed.signal, logOf(killed)).toBe('SIGKILL');
    expect(existsSync(`${killed.outputDir}/model`)).toBe(false);

    const resumed = await train(
      job('attempt-2', { hyperparameters: LONG, checkpointDir: killed.checkpointDir }),
    );
    expect(resumed.exitCode, logOf(resumed)).toBe(0);
    const resumedEvent = resumed.stdout
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.event === 'resumed');
    const from = resumedEvent?.fromEpoch as number;
    expect(from).toBeGreaterThanOrEqual(2);
    expect(from).toBeLessThan(LONG.epochs);

    const metrics = readJsonl(`${resumed.outputDir}/metrics.jsonl`);
    expect(metrics.map((m) => m.epoch)).toEqual(Array.from({ length: LONG.epochs }, (_, i) => i + 1));
    expect(metrics[from]?.resumedFromEpoch).toBe(from);
    expect(metrics.filter((m) => 'resumedFromEpoch' in m)).toHaveLength(1);
    expect(readJson(`${resumed.outputDir}/model-card.json`).training as object).toMatchObject({
      resumedFromEpoch: from,
    });
    // Same losses epoch by epoch as the run that was never interrupted: the same weights.
    const strip = ({ seconds: _s, resumedFromEpoch: _r, ...rest }: Record<string, unknown>) => rest;
    expect(metrics.map(strip)).toEqual(readJsonl(`${uninterrupted.outputDir}/metrics.jsonl`).map(strip));
  });

  it('refuses a wrong task in one stderr line, exit 1', async () => {
    const wrong = await train(job('task', { task: 'regression' }));
    expect(wrong.exitCode).toBe(1);
    expect(wrong.lastStderrLine).toBe(
      'torch-segment: task regression is not supported: this trainer does multiclass (trainer.yaml tasks)',
    );
  });
});
