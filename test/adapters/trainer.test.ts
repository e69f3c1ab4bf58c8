import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseTrainerEnv,
  runTraining,
  TRAINER_OUTPUTS,
  type TrainerEnv,
  trainingSummarySchema,
} from '../../containers/trainer/src/train-job.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { loadModel } from '../../lambdas/domain/ml/artifact.js';
import { parseCsv } from '../../lambdas/domain/ml/dataset.js';
import { churnCsv } from '../../local/data/churn.js';
import { startTestS3, type TestS3 } from '../support/emulators.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe('trainer against s3rver', () => {
  let s3: TestS3;
  let bucket: string;
  let objects: S3Objects;
  const datasetCsv = churnCsv({ rows: 5000, seed: 1 });
  const env = (runId: string, over: Partial<TrainerEnv> = {}): TrainerEnv => ({
    MLCYCLE_MODEL: 'churn',
    MLCYCLE_RUN_ID: runId,
    MLCYCLE_DATASET_URI: `s3://${bucket}/datasets/churn/d.csv`,
    MLCYCLE_OUTPUT_URI: `s3://${bucket}/runs/churn/${runId}/`,
    MLCYCLE_HYPERPARAMETERS: JSON.stringify({ epochs: 10, learningRate: 0.05, seed: 3 }),
    MLCYCLE_TARGET: 'churned',
    MLCYCLE_CODE_VERSION: 'abc123',
    MLCYCLE_EXCLUDE: 'player_id',
    MLCYCLE_HOLDOUT_FRACTION: 0.2,
    ...over,
  });
  const key = (runId: string, name: string) => ({ bucket, key: `runs/churn/${runId}/${name}` });
  const written = async (runId: string) =>
    (await objects.list(bucket, `runs/churn/${runId}/`)).map((o) => o.key.split('/').pop());

  beforeAll(async () => {
    s3 = await startTestS3();
    bucket = await s3.newBucket();
    objects = new S3Objects(s3.local.client);
    await objects.put({ bucket, key: 'datasets/churn/d.csv' }, datasetCsv);
    await objects.put({ bucket, key: 'datasets/churn/no-target.csv' }, 'player_id,level\n1,2\n');
    await objects.put({ bucket, key: 'datasets/churn/header-only.csv' }, 'player_id,level,churned\n');
    await objects.put(
      { bucket, key: 'datasets/churn/not-binary.csv' },
      churnCsv({ rows: 100, seed: 2 }).replace(/,1\n/, ',yes\n'),
    );
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('writes the model with its sha256, per-epoch metrics, holdout, model card and summary', async () => {
    const lines: string[] = [];
    const summary = await runTraining(env('r1'), { s3: s3.local.client, log: (l) => lines.push(l) });

    expect((await written('r1')).sort()).toEqual([...TRAINER_OUTPUTS].sort());
    const modelBytes = await objects.getBytes(key('r1', 'model.json'));
    expect(sha256(modelBytes)).toBe(summary.sha256);
    expect(await objects.getText(key('r1', 'model.sha256'))).toBe(`${summary.sha256}\n`);
    expect(loadModel(modelBytes.toString()).artifact).toMatchObject({ model: 'churn', target: 'churned' });

    const stored = trainingSummarySchema.parse(await objects.getJson(key('r1', 'training-summary.json')));
    expect(stored).toEqual(summary);
    expect(summary).toMatchObject({
      model: 'churn',
      runId: 'r1',
      artifactUri: `s3://${bucket}/runs/churn/r1/model.json`,
      framework: 'mlcycle-logreg',
      target: 'churned',
      trainRows: 4000,
      holdoutRows: 1000,
      datasetUri: `s3://${bucket}/datasets/churn/d.csv`,
      datasetSha256: sha256(datasetCsv),
      codeVersion: 'abc123',
      epochs: 10,
      hyperparameters: { epochs: 10, learningRate: 0.05, seed: 3, l2: 0.001, batchSize: 256 },
    });
    expect(summary.features.map((f) => f.name)).toEqual([
      'sessions_per_week',
      'avg_session_minutes',
      'days_since_last_login',
      'purchases_30d',
      'level',
      'platform',
      'region',
    ]);
    expect(Date.parse(summary.finishedAt)).toBeGreaterThanOrEqual(Date.parse(summary.startedAt));

    const epochs = (await objects.getText(key('r1', 'metrics.jsonl')))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(epochs.at(-1).trainLoss).toBe(summary.finalTrainLoss);
    expect(epochs.at(-1).holdoutAuc).toBeGreaterThan(0.75);

    const holdout = parseCsv(await objects.getText(key('r1', 'holdout.csv')), 'holdout');
    expect(holdout.rows).toHaveLength(1000);
    expect(holdout.columns).toContain('player_id');
    const card = await objects.getJson<{ data: { datasetSha256: string }; topCoefficients: unknown[] }>(
      key('r1', 'model-card.json'),
    );
    expect(card.data.datasetSha256).toBe(summary.datasetSha256);
    expect(card.topCoefficients.length).toBe(8);
    expect(await objects.getText(key('r1', 'model-card.md'))).toContain('# Model card: churn (run r1)');

    const events = lines.map((l) => JSON.parse(l).event);
    expect(events[0]).toBe('start');
    expect(events.filter((e) => e === 'epoch')).toHaveLength(10);
    expect(events.at(-1)).toBe('done');
  });

  it.each([
    ['a missing target column', 'no-target.csv', /no target column "churned" \(columns: player_id, level\)/],
    ['a header-only dataset', 'header-only.csv', /has a header .* but no data rows/],
    ['a target that is not binary', 'not-binary.csv', /must be binary .* has "yes"/],
    ['a dataset that does not exist', 'nope.csv', /datasets\/churn\/nope\.csv does not exist/],
  ])('fails clearly on %s, writing nothing', async (_what, file, message) => {
    const runId = `bad-${file.replace(/\W/g, '')}`;
    await expect(
      runTraining(env(runId, { MLCYCLE_DATASET_URI: `s3://${bucket}/datasets/churn/${file}` }), {
        s3: s3.local.client,
      }),
    ).rejects.toThrow(message);
    expect(await written(runId)).toEqual([]);
  });

  it('refuses bad hyperparameters by name before reading the data', async () => {
    const run = (hp: string) =>
      runTraining(env('hp', { MLCYCLE_HYPERPARAMETERS: hp }), { s3: s3.local.client });
    await expect(run('{"learningRat": 0.1}')).rejects.toThrow(/learningRat/);
    await expect(run('{"epochs": 0}')).rejects.toThrow(/epochs: got 0/);
    await expect(run('epochs=5')).rejects.toThrow(/MLCYCLE_HYPERPARAMETERS is not JSON: "epochs=5"/);
  });

  it('validates its environment, naming the missing or bad variable', () => {
    expect(() =>
      parseTrainerEnv({ ...env('x'), MLCYCLE_TARGET: undefined } as unknown as NodeJS.ProcessEnv),
    ).toThrow(/MLCYCLE_TARGET/);
    expect(() =>
      parseTrainerEnv({ ...env('x'), MLCYCLE_DATASET_URI: '/tmp/d.csv' } as unknown as NodeJS.ProcessEnv),
    ).toThrow(/MLCYCLE_DATASET_URI: got "\/tmp\/d.csv": must be an s3:\/\/bucket\/prefix URI/);
    expect(
      parseTrainerEnv({ ...env('x'), MLCYCLE_HOLDOUT_FRACTION: '0.3' } as NodeJS.ProcessEnv),
    ).toMatchObject({
      MLCYCLE_HOLDOUT_FRACTION: 0.3,
    });
  });
});
