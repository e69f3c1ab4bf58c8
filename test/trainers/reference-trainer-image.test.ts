import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictModeEnv, trainModeEnv } from '../../lambdas/contracts/trainer.js';
import { churnCsv } from '../../local/data/churn.js';
import { loadTrainer } from '../../local/trainers/manifest.js';
import {
  dropColumns,
  predictInput,
  predictionsOf,
  readTable,
  splitRows,
  tableCsv,
  workspace,
  write,
} from './support.js';

/**
 * The reference trainer as its image runs it, without Docker: the bundles the Dockerfile builds
 * (same esbuild options), alone in a folder with trainer.yaml (the image's WORKDIR /app, no
 * node_modules, no tsx), started with trainer.yaml's argv.
 */

const DOCKERFILE = readFileSync('containers/trainer/Dockerfile', 'utf8');
const BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";
const ws = workspace('reference-image');
afterAll(() => ws.remove());
const app = ws.dir('app');

beforeAll(async () => {
  for (const entry of ['train', 'predict']) {
    await build({
      entryPoints: [`containers/trainer/src/${entry}.ts`],
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      outfile: join(app, `${entry}.mjs`),
      banner: { js: BANNER },
      logLevel: 'silent',
    });
  }
  copyFileSync('containers/trainer/trainer.yaml', join(app, 'trainer.yaml'));
}, 60_000);

const run = (argv: readonly string[], env: Record<string, string>) => {
  const [command, ...args] = argv;
  expect(command).toBe('node');
  return spawnSync(process.execPath, args, {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
};

describe('reference trainer image (bundles)', () => {
  it('the Dockerfile bundles both contract entries with these options and ships trainer.yaml', () => {
    expect(DOCKERFILE).toContain('for entry in train:train predict:predict');
    expect(DOCKERFILE).toContain(`--banner:js="${BANNER}"`);
    expect(DOCKERFILE).toContain('COPY containers/trainer/trainer.yaml /app/trainer.yaml');
  });

  it("trains and predicts from the bundles alone, with trainer.yaml's argv", () => {
    const { manifest } = loadTrainer('containers/trainer');
    const table = dropColumns(readTable(churnCsv({ rows: 1200, seed: 5 })), ['player_id']);
    const parts = splitRows(table, { train: 1000, validation: 0, holdout: 200 });
    const holdout = predictInput(parts.holdout, 'churned');
    const out = ws.dir('output');
    const trained = run(
      manifest.train,
      trainModeEnv({
        model: 'churn',
        runId: 'image',
        codeVersion: 'test',
        task: 'binary',
        target: 'churned',
        train: write(ws.path('train.csv'), tableCsv(parts.train)),
        validation: undefined,
        hyperparameters: {
          learningRate: 0.05,
          epochs: 5,
          l2: 0.001,
          batchSize: 256,
          seed: 42,
          schedule: 'cosine',
          earlyStoppingPatience: 0,
        },
        outputDir: out,
        checkpointDir: ws.dir('checkpoint'),
        useGpu: false,
      }),
    );
    expect(trained.status, trained.stderr).toBe(0);
    const predictions = ws.path('predictions.jsonl');
    const predicted = run(
      manifest.predict,
      predictModeEnv({
        task: 'binary',
        modelDir: join(out, 'model'),
        input: write(ws.path('holdout.csv'), tableCsv(holdout.input)),
        predictions,
      }),
    );
    expect(predicted.status, predicted.stderr).toBe(0);
    expect(predictionsOf('binary', readFileSync(predictions, 'utf8'), 200)).toHaveLength(200);
  });
});
