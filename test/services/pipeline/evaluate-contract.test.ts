import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishTrainOutputs } from '../../../lambdas/adapters/pipeline/stager.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { preparedStateSchema } from '../../../lambdas/contracts/pipeline.js';
import { evaluateRun } from '../../../lambdas/services/pipeline/evaluate.js';
import { startTestS3, type TestS3 } from '../../support/emulators.js';

/** Evaluate on a contract run: measured from the predict entry's output, reported kept apart. */
describe('evaluateRun (contract trainer)', () => {
  let s3: TestS3;
  let objects: S3Objects;
  let bucket: string;
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-eval-'));

  beforeAll(async () => {
    s3 = await startTestS3();
    objects = new S3Objects(s3.local.client);
    bucket = await s3.newBucket();
  });
  afterAll(async () => {
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const runUri = (runId: string) => `s3://${bucket}/runs/ltv/${runId}/`;
  const state = (runId: string) =>
    preparedStateSchema.parse({
      model: 'ltv',
      stage: 'staging',
      requestedBy: 'a@studio.test',
      trigger: 'manual',
      execution: { arn: 'arn:aws:states:us-east-1:000000000000:execution:x:e1', name: 'e1' },
      training: {
        task: 'regression',
        trainer: 'containers/sklearn-ltv',
        target: 'ltv_90d',
        exclude: ['player_id'],
        hyperparameters: {},
        holdoutFraction: 0.2,
        timeoutSeconds: 600,
        taskTimeoutSeconds: 2400,
        predictTimeoutSeconds: 1800,
        predictTaskTimeoutSeconds: 2400,
      },
      approvalWait: { timeoutSeconds: 60 },
      run: {
        runId,
        runUri: runUri(runId),
        datasetUri: `s3://${bucket}/datasets/ltv/d.csv`,
        outputUri: runUri(runId),
        hyperparametersJson: '{}',
        excludeCsv: 'player_id',
        holdoutFraction: '0.2',
        startedAt: '2026-01-01T00:00:00.000Z',
      },
    });

  async function trained(runId: string, predictions: string) {
    const out = join(dir, runId, 'output');
    mkdirSync(join(out, 'model'), { recursive: true });
    writeFileSync(join(out, 'model', 'weights.json'), '{"w":[1,2]}');
    writeFileSync(join(out, 'model-card.json'), '{"framework":"test 1.0"}');
    writeFileSync(join(out, 'reported-metrics.json'), '{"r2":0.99,"validationRmse":0.1,"note":"fine"}');
    const artifact = await publishTrainOutputs(objects, { runUri: runUri(runId), outputDir: out });
    const key = (file: string) => ({ bucket, key: `runs/ltv/${runId}/${file}` });
    await objects.put(key('evaluation/holdout-labels.csv'), 'ltv_90d\n1\n2\n3\n4\n');
    await objects.put(key('evaluation/predictions.jsonl'), predictions);
    return artifact;
  }

  it('measures rmse, mae and r2 itself and keeps the trainer’s numbers as reported', async () => {
    const artifact = await trained('r1', '1\n2\n3\n5\n');
    const result = await evaluateRun({ objects }, state('r1'));
    expect(result.metrics.rmse).toBeCloseTo(0.5, 12);
    expect(result.metrics.mae).toBeCloseTo(0.25, 12);
    expect(result.metrics.r2).toBeCloseTo(0.8, 12);
    expect(result.reportedMetrics).toEqual({ r2: 0.99, validationRmse: 0.1 });
    expect(result.artifact).toEqual({ uri: `${runUri('r1')}model.tar.gz`, sha256: artifact.sha256 });
    const stored = await objects.getJson<{ task: string; metrics: unknown }>({
      bucket,
      key: 'runs/ltv/r1/evaluation.json',
    });
    expect(stored).toMatchObject({ task: 'regression', metrics: result.metrics });
  });

  it('refuses predictions that break the contract, naming the line', async () => {
    await trained('r2', '1\n2\n"three"\n4\n');
    await expect(evaluateRun({ objects }, state('r2'))).rejects.toMatchObject({
      name: expect.stringMatching(/Evaluation/),
      message: expect.stringMatching(/prediction line 3: got "three", expected a finite number/),
    });
  });

  it('refuses a model.tar.gz whose bytes changed after training (the sha256 recorded at publish)', async () => {
    const published = await trained('r3', '1\n2\n3\n4\n');
    const swapped = join(dir, 'swapped.tar.gz');
    writeFileSync(swapped, 'not the trained model');
    // Same key and the same recorded sha256 as the trained one: only the bytes differ.
    await objects.putFile({ bucket, key: 'runs/ltv/r3/model.tar.gz' }, swapped, {
      metadata: { sha256: published.sha256 },
    });
    await expect(evaluateRun({ objects }, state('r3'))).rejects.toThrow(/sha256/);
  });

  it('a train entry that wrote no model/ publishes nothing', async () => {
    const out = join(dir, 'r5', 'output');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'model-card.json'), '{}');
    await expect(publishTrainOutputs(objects, { runUri: runUri('r5'), outputDir: out })).rejects.toThrow(
      'no artifact: the train entry exited 0 but wrote no model/ folder',
    );
    expect(await objects.list(bucket, 'runs/ltv/r5/')).toEqual([]);
  });
});
