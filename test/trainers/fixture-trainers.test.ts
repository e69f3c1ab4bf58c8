import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classificationMetrics } from '../../lambdas/domain/ml/metrics.js';
import { parsePredictions } from '../../lambdas/domain/ml/predictions.js';
import { churnCsv } from '../../local/data/churn.js';
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
  type TrainRequest,
  tableCsv,
  train,
  workspace,
  write,
} from './support.js';

/**
 * The test trainers of test/fixtures/trainers, each through the local runner as the platform
 * will run it: what a trainer that works, lies, crashes, writes no model, breaks its predict
 * entry, or is killed mid-training leaves behind, and what the platform can measure from it.
 */

const FIXTURES = 'test/fixtures/trainers';
const ws = workspace('fixture-trainers');
afterAll(() => ws.remove());

const TARGET = 'churned';
const parts = splitRows(dropColumns(readTable(churnCsv({ rows: 2400, seed: 17 })), ['player_id']), {
  train: 2000,
  validation: 0,
  holdout: 400,
});
const holdout = predictInput(parts.holdout, TARGET);
const labels = holdout.labels.map(Number);

const job = (trainer: string, extra: Partial<TrainRequest> = {}): TrainRequest => ({
  trainer: `${FIXTURES}/${trainer}`,
  ws,
  run: trainer,
  task: 'binary',
  target: TARGET,
  train: ws.path('train.csv'),
  ...extra,
});
const predictHoldout = (trainer: string, run: string, modelDir: string) =>
  predict(`${FIXTURES}/${trainer}`, ws, run, 'binary', modelDir, ws.path('holdout.csv'));

beforeAll(() => {
  write(ws.path('train.csv'), tableCsv(parts.train));
  write(ws.path('holdout.csv'), tableCsv(holdout.input));
});

describe('test trainers under the contract', () => {
  it('minimal (the doc’s example, Python): trains, predicts one probability per row, learns something', async () => {
    const trained = await train(job('minimal'));
    expect(trained.exitCode, logOf(trained)).toBe(0);
    expect(readdirSync(`${trained.outputDir}/model`)).toEqual(['model.pkl']);
    expect(readJsonl(`${trained.outputDir}/metrics.jsonl`)).toEqual([
      { iteration: expect.any(Number), trainAccuracy: expect.any(Number) },
    ]);
    expect(readJson(`${trained.outputDir}/model-card.json`)).toMatchObject({ framework: 'scikit-learn' });
    const predicted = await predictHoldout('minimal', 'minimal', `${trained.outputDir}/model`);
    expect(predicted.exitCode, logOf(predicted)).toBe(0);
    const p = predictionsOf('binary', predicted.text, labels.length) as number[];
    expect(classificationMetrics(labels, p).auc).toBeGreaterThan(0.7);
  });

  it('liar: reports AUC 0.99; what the platform measures on the holdout is 0.5', async () => {
    const trained = await train(job('liar'));
    expect(trained.exitCode, logOf(trained)).toBe(0);
    expect(readJson(`${trained.outputDir}/reported-metrics.json`)).toMatchObject({ auc: 0.99 });
    const predicted = await predictHoldout('liar', 'liar', `${trained.outputDir}/model`);
    expect(predicted.exitCode, logOf(predicted)).toBe(0);
    const p = predictionsOf('binary', predicted.text, labels.length) as number[];
    expect(classificationMetrics(labels, p).auc).toBeCloseTo(0.5, 5);
  });

  it('crasher: exit 1, the reason is the last stderr line, no model', async () => {
    const trained = await train(job('crasher'));
    expect(trained.exitCode).toBe(1);
    expect(trained.lastStderrLine).toBe('crasher: out of memory allocating the embedding table (simulated)');
    expect(existsSync(`${trained.outputDir}/model`)).toBe(false);
    expect(logOf(trained)).toContain('crasher: warning: the GPU driver is older than expected');
  });

  it('no-artifact: exit 0 with metrics and a card, but no model/', async () => {
    const trained = await train(job('no-artifact'));
    expect(trained.exitCode).toBe(0);
    expect(readdirSync(trained.outputDir).sort()).toEqual(['metrics.jsonl', 'model-card.json']);
  });

  it('bad-predict: trains, then its predict entry crashes or writes what the contract refuses', async () => {
    const failures = ['crash', 'short', 'extra', 'not_json', 'out_of_range'] as const;
    const outcomes = await Promise.all(
      failures.map(async (failure) => {
        const run = `bad-predict-${failure}`;
        const trained = await train(job('bad-predict', { run, hyperparameters: { failure } }));
        expect(trained.exitCode, logOf(trained)).toBe(0);
        expect(existsSync(`${trained.outputDir}/model/model.json`)).toBe(true);
        const predicted = await predictHoldout('bad-predict', run, `${trained.outputDir}/model`);
        const parsed = parsePredictions('binary', predicted.text, labels.length);
        return [failure, { exitCode: predicted.exitCode, stderr: predicted.lastStderrLine, parsed }] as const;
      }),
    );
    const by = Object.fromEntries(outcomes);
    expect(by.crash).toMatchObject({ exitCode: 1, stderr: 'bad-predict: cannot load the model (simulated)' });
    const problem = (failure: (typeof failures)[number]) => {
      expect(by[failure]?.exitCode).toBe(0);
      const parsed = by[failure]?.parsed;
      return parsed && !parsed.ok ? parsed.problem : 'accepted';
    };
    expect(problem('short')).toBe(`${labels.length - 1} prediction lines for ${labels.length} input rows`);
    expect(problem('extra')).toBe(`${labels.length + 1} prediction lines for ${labels.length} input rows`);
    expect(problem('not_json')).toMatch(/^prediction line 1 is not JSON/);
    expect(problem('out_of_range')).toMatch(/^prediction line 1: got 1.7/);
  });

  it('resumable: killed mid-training, restarted with the same checkpoint folder, resumes and says so', async () => {
    const hyperparameters = { epochs: 6, epoch_seconds: 0.4 };
    const stop = new AbortController();
    const killed = await train(
      job('resumable', {
        run: 'resumable-1',
        hyperparameters,
        extra: {
          signal: stop.signal,
          killSignal: 'SIGKILL',
          onOutput: (line) => {
            if ((JSON.parse(line) as { epoch?: number }).epoch === 2) stop.abort();
          },
        },
      }),
    );
    expect(killed.signal, logOf(killed)).toBe('SIGKILL');
    expect(existsSync(`${killed.outputDir}/model`)).toBe(false);
    // Killed 0.4 s into epoch 3, unless this machine took that long to react.
    const saved = readJson(`${killed.checkpointDir}/state.json`).epoch as number;
    expect(saved).toBeGreaterThanOrEqual(2);
    expect(saved).toBeLessThan(6);

    const resumed = await train(
      job('resumable', { run: 'resumable-2', hyperparameters, checkpointDir: killed.checkpointDir }),
    );
    expect(resumed.exitCode, logOf(resumed)).toBe(0);
    const metrics = readJsonl(`${resumed.outputDir}/metrics.jsonl`);
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(metrics[saved]).toMatchObject({ epoch: saved + 1, resumedFromEpoch: saved });
    expect(metrics.filter((m) => 'resumedFromEpoch' in m)).toHaveLength(1);
    // The checkpointed epochs ran in the killed process, the rest in the new one: none twice.
    const pids = metrics.map((m) => m.pid);
    expect(new Set(pids.slice(0, saved))).toEqual(new Set([pids[0]]));
    expect(new Set(pids.slice(saved))).toEqual(new Set([pids[saved]]));
    expect(pids[0]).not.toBe(pids[saved]);
    expect(readJson(`${resumed.outputDir}/model-card.json`).notes).toEqual([
      `resumed from the checkpoint of epoch ${saved}`,
    ]);
    const predicted = await predictHoldout('resumable', 'resumable-2', `${resumed.outputDir}/model`);
    expect(predictionsOf('binary', predicted.text, labels.length)).toHaveLength(labels.length);
  });
});
