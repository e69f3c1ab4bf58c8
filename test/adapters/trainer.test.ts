import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTraining, type TrainerEnv } from '../../containers/trainer/src/train-job.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { loadModel } from '../../lambdas/domain/ml/artifact.js';
import { churnCsv } from '../../local/data/churn.js';
import { startTestS3, type TestS3 } from '../support/emulators.js';

describe('trainer against s3rver', () => {
  let s3: TestS3;
  let bucket: string;
  let objects: S3Objects;
  const env = (over: Partial<TrainerEnv> = {}): TrainerEnv => ({
    MLCYCLE_MODEL: 'churn',
    MLCYCLE_RUN_ID: 'r1',
    MLCYCLE_DATASET_URI: `s3://${bucket}/datasets/churn/d.csv`,
    MLCYCLE_OUTPUT_URI: `s3://${bucket}/runs/churn/r1/`,
    MLCYCLE_HYPERPARAMETERS: JSON.stringify({ epochs: 10, learningRate: 0.05, seed: 3 }),
    MLCYCLE_TARGET: 'churned',
    MLCYCLE_CODE_VERSION: 'abc123',
    MLCYCLE_EXCLUDE: 'player_id',
    MLCYCLE_HOLDOUT_FRACTION: 0.2,
    ...over,
  });

  beforeAll(async () => {
    s3 = await startTestS3();
    bucket = await s3.newBucket();
    objects = new S3Objects(s3.local.client);
    await objects.put({ bucket, key: 'datasets/churn/d.csv' }, churnCsv({ rows: 5000, seed: 1 }));
    await objects.put({ bucket, key: 'datasets/churn/bad.csv' }, 'player_id,level\n1,2\n');
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('writes the model with its sha256, per-epoch metrics, holdout, model card and summary', async () => {
    const lines: string[] = [];
    const summary = await runTraining(env(), { s3: s3.local.client, log: (l) => lines.push(l) });
    const key = (n: string) => ({ bucket, key: `runs/churn/r1/${n}` });
    const model = await objects.getBytes(key('model.json'));
    expect(createHash('sha256').update(model).digest('hex')).toBe(summary.sha256);
    expect((await objects.getText(key('model.sha256'))).startsWith(summary.sha256)).toBe(true);
    expect(loadModel(model.toString()).artifact.target).toBe('churned');
    const epochs = (await objects.getText(key('metrics.jsonl'))).trim().split('\n');
    expect(epochs).toHaveLength(10);
    expect(JSON.parse(epochs[9] ?? '{}').holdoutAuc).toBeGreaterThan(0.7);
    expect(summary).toMatchObject({ trainRows: 4000, holdoutRows: 1000, codeVersion: 'abc123', epochs: 10 });
    expect(summary.features.map((f) => f.name)).not.toContain('player_id');
    const card = await objects.getJson<{ topCoefficients: unknown[] }>(key('model-card.json'));
    expect(card.topCoefficients.length).toBeGreaterThan(3);
    expect(await objects.getText(key('model-card.md'))).toContain('# Model card: churn');
    expect((await objects.getText(key('holdout.csv'))).trim().split('\n')).toHaveLength(1001);
    expect(lines.some((l) => l.includes('"event":"done"'))).toBe(true);
  });

  it('fails with a message naming the missing target column, writing no summary', async () => {
    await expect(
      runTraining(
        env({
          MLCYCLE_DATASET_URI: `s3://${bucket}/datasets/churn/bad.csv`,
          MLCYCLE_OUTPUT_URI: `s3://${bucket}/runs/churn/r2/`,
        }),
        {
          s3: s3.local.client,
        },
      ),
    ).rejects.toThrow(/no target column "churned"/);
    expect(await objects.head({ bucket, key: 'runs/churn/r2/training-summary.json' })).toBeUndefined();
  });

  it('refuses an unknown hyperparameter by name', async () => {
    await expect(
      runTraining(env({ MLCYCLE_HYPERPARAMETERS: '{"learningRat": 0.1}' }), { s3: s3.local.client }),
    ).rejects.toThrow(/learningRat/);
  });
});
