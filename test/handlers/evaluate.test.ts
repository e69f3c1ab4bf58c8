import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../containers/trainer/src/train-job.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import {
  evaluationResultSchema,
  type PipelineState,
  type RunInfo,
} from '../../lambdas/contracts/pipeline.js';
import { toCsv } from '../../lambdas/domain/ml/dataset.js';
import { churnCsv } from '../../local/data/churn.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { startTestS3, type TestS3 } from '../support/emulators.js';

type Handler = (event: unknown) => Promise<unknown>;

describe('evaluate handler', () => {
  let s3: TestS3;
  let bucket: string;
  let objects: S3Objects;
  let handler: Handler;

  const pipelineState: PipelineState = {
    model: 'churn',
    stage: 'staging',
    requestedBy: 'ml-lead@studio.example',
    reason: 'test',
    trigger: 'manual',
    dataset: '',
    bump: 'minor',
    version: '',
    promote: '',
    execution: { arn: 'arn:aws:states:us-east-1:000000000000:execution:mlcycle-lifecycle:e1', name: 'e1' },
    training: {
      task: 'binary',
      trainer: 'containers/trainer',
      splitKey: '',
      validationFraction: 0,
      seed: 42,
      useGpu: '1',
      target: 'churned',
      exclude: ['player_id'],
      hyperparameters: { epochs: 15, seed: 4 },
      holdoutFraction: 0.2,
      timeoutSeconds: 600,
      taskTimeoutSeconds: 2400,
      predictTimeoutSeconds: 3600,
      predictTaskTimeoutSeconds: 4200,
    },
    approvalWait: { timeoutSeconds: 60 },
  };
  const runInfo = (runId: string): RunInfo => ({
    runId,
    datasetUri: `s3://${bucket}/datasets/churn/d.csv`,
    outputUri: `s3://${bucket}/runs/churn/${runId}/`,
    hyperparametersJson: JSON.stringify(pipelineState.training.hyperparameters),
    excludeCsv: 'player_id',
    holdoutFraction: '0.2',
    startedAt: '2026-01-01T00:00:00.000Z',
  });
  const state = (runId: string) => ({
    ...pipelineState,
    run: runInfo(runId),
    somethingLater: { kept: true },
  });
  const train = (runId: string) => {
    const run = runInfo(runId);
    return runTraining(
      {
        MLCYCLE_MODEL: 'churn',
        MLCYCLE_RUN_ID: runId,
        MLCYCLE_DATASET_URI: run.datasetUri,
        MLCYCLE_OUTPUT_URI: run.outputUri,
        MLCYCLE_HYPERPARAMETERS: run.hyperparametersJson,
        MLCYCLE_TARGET: 'churned',
        MLCYCLE_CODE_VERSION: 'test',
        MLCYCLE_EXCLUDE: run.excludeCsv,
        MLCYCLE_HOLDOUT_FRACTION: 0.2,
      },
      { s3: s3.local.client },
    );
  };
  const at = (runId: string, name: string) => ({ bucket, key: `runs/churn/${runId}/${name}` });

  beforeAll(async () => {
    s3 = await startTestS3();
    bucket = await s3.newBucket();
    objects = new S3Objects(s3.local.client);
    Object.assign(process.env, {
      MLCYCLE_BUCKET: bucket,
      MLCYCLE_TABLE: 'unused-by-evaluate',
      AWS_ENDPOINT_URL_S3: s3.local.endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    });
    await objects.put({ bucket, key: 'datasets/churn/d.csv' }, churnCsv({ rows: 4000, seed: 17 }));
    ({ handler } = (await import('../../lambdas/handlers/evaluate.js')) as { handler: Handler });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('scores the holdout, records evaluation.json and returns $.evaluation', async () => {
    const summary = await train('good');
    const result = evaluationResultSchema.parse(await handler(state('good')));
    expect(result).toEqual({
      metrics: expect.objectContaining({ auc: expect.any(Number), f1: expect.any(Number) }),
      reportedMetrics: {},
      holdoutRows: 800,
      artifact: { uri: summary.artifactUri, sha256: summary.sha256 },
      modelCardUri: `s3://${bucket}/runs/churn/good/model-card.json`,
      evaluationUri: `s3://${bucket}/runs/churn/good/evaluation.json`,
    });
    expect(result.metrics.auc).toBeGreaterThan(0.75);
    const recorded = await objects.getJson<Record<string, unknown>>(at('good', 'evaluation.json'));
    expect(recorded).toMatchObject({ model: 'churn', runId: 'good', ...result });
    const confusion = recorded.confusion as Record<string, number>;
    expect(Object.values(confusion).reduce((a, b) => a + b, 0)).toBe(800);
    expect(recorded.positives).toBe((confusion.tp ?? 0) + (confusion.fn ?? 0));
  });

  it('refuses an artifact whose sha256 differs from the one the trainer recorded', async () => {
    const summary = await train('tampered');
    const model = JSON.parse(await objects.getText(at('tampered', 'model.json')));
    model.bias += 1;
    await objects.put(at('tampered', 'model.json'), JSON.stringify(model), 'application/json');
    const failure = handler(state('tampered'));
    await expect(failure).rejects.toMatchObject({ name: 'ArtifactValidationError' });
    await expect(failure).rejects.toThrow(`but the trainer recorded ${summary.sha256}`);
    expect(await objects.head(at('tampered', 'evaluation.json'))).toBeUndefined();
  });

  it('fails with an EvaluationError when the holdout has a single class', async () => {
    await train('one-class');
    const holdout = churnCsv({ rows: 50, seed: 3 })
      .split('\n')
      .filter((line, i) => i === 0 || line.endsWith(',0'))
      .join('\n');
    await objects.put(at('one-class', 'holdout.csv'), holdout, 'text/csv');
    await expect(handler(state('one-class'))).rejects.toMatchObject({
      name: 'EvaluationError',
      message: expect.stringMatching(/only negative \(0\) "churned" values/),
    });
  });

  it('refuses a training summary that belongs to another run', async () => {
    await train('mixed');
    const summary = await objects.getJson<Record<string, unknown>>(at('mixed', 'training-summary.json'));
    await objects.putJson(at('mixed', 'training-summary.json'), { ...summary, runId: 'someone-else' });
    await expect(handler(state('mixed'))).rejects.toMatchObject({
      name: 'ArtifactValidationError',
      message: expect.stringContaining('is for churn run someone-else, not churn run mixed'),
    });
  });

  it('names what is missing: the trainer output or the run in the state', async () => {
    await expect(handler(state('never-trained'))).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringContaining('runs/churn/never-trained/training-summary.json does not exist'),
    });
    await expect(handler(pipelineState)).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('Evaluate input: run'),
    });
  });

  it('scores a holdout with rows the trainer never saw in any form (unseen categories, blanks)', async () => {
    await train('unseen');
    const rows = [
      {
        sessions_per_week: 3,
        avg_session_minutes: '',
        days_since_last_login: 9,
        purchases_30d: 0,
        level: 4,
        platform: 'switch',
        region: 'mena',
        churned: 1,
      },
      {
        sessions_per_week: 14,
        avg_session_minutes: 35,
        days_since_last_login: 0,
        purchases_30d: 3,
        level: 60,
        platform: 'pc',
        region: 'na',
        churned: 0,
      },
    ];
    await objects.put(at('unseen', 'holdout.csv'), toCsv(Object.keys(rows[0] ?? {}), rows), 'text/csv');
    const result = evaluationResultSchema.parse(await handler(state('unseen')));
    expect(result.holdoutRows).toBe(2);
    expect(result.metrics.auc).toBe(1);
  });
});
