import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInfoSchema } from '../../lambdas/contracts/pipeline.js';
import { type HandlerWorld, handlerWorld, MODEL, pipelineState, REQUESTOR } from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;

describe('prepare-run handler (PrepareRun state, DynamoDB Local + s3rver)', () => {
  let w: HandlerWorld;
  let handler: Handler;
  const put = (key: string, body: string) => w.objects.put({ bucket: w.bucket, key }, body, 'text/csv');

  beforeAll(async () => {
    w = await handlerWorld('prepareRun');
    ({ handler } = (await import('../../lambdas/handlers/prepare-run.js')) as { handler: Handler });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('refuses to start when no dataset was uploaded for the model, naming the prefix, writing nothing', async () => {
    await put('datasets/churnx/other-model.csv', 'a,b\n1,2\n');
    const before = await w.scan();
    await expect(handler(pipelineState())).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(`no dataset under s3://${w.bucket}/datasets/churn/`),
    });
    expect(await w.scan()).toBe(before);
  });

  it('picks the dataset under datasets/<model>/, allocates the run and records it as training', async () => {
    await put('datasets/churn/a-2030-01.csv', 'sessions,churned\n1,0\n2,1\n');
    await put('datasets/churn/b-2030-02.csv', 'sessions,churned\n3,0\n4,1\n');
    // Folder markers and empty uploads are never training data, whatever their names.
    await put('datasets/churn/', '');
    await put('datasets/churn/zz-empty.csv', '');
    const input = pipelineState({ trigger: 'schedule', reason: 'weekly retrain' });

    const run = runInfoSchema.parse(await handler(input));

    expect(run.runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    // The Train state names the Batch job mlcycle-<model>-<runId>: at most 128 of [A-Za-z0-9_-].
    expect(`mlcycle-${MODEL}-${run.runId}`).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
    expect(run).toEqual({
      runId: run.runId,
      datasetUri: `s3://${w.bucket}/datasets/churn/b-2030-02.csv`,
      outputUri: `s3://${w.bucket}/runs/churn/${run.runId}/`,
      // Container environment values are strings: the Train state passes these as they are.
      hyperparametersJson: JSON.stringify(input.training.hyperparameters),
      excludeCsv: 'player_id',
      holdoutFraction: '0.2',
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(await w.registry.runs.getRun(MODEL, run.runId)).toEqual({
      model: MODEL,
      runId: run.runId,
      stage: 'staging',
      status: 'training',
      trigger: 'schedule',
      executionArn: input.execution.arn,
      requestedBy: REQUESTOR,
      reason: 'weekly retrain',
      datasetUri: run.datasetUri,
      hyperparameters: input.training.hyperparameters,
      startedAt: run.startedAt,
    });
  });

  it('uses a named dataset, applies the input defaults, and gives every run its own id', async () => {
    await put('uploads/churn-holiday.csv', 'sessions,churned\n5,1\n');
    const {
      reason: _r,
      bump: _b,
      version: _v,
      promote: _p,
      ...minimal
    } = pipelineState({
      dataset: `s3://${w.bucket}/uploads/churn-holiday.csv`,
    });
    const runs = await Promise.all([handler(minimal), handler(minimal)]).then((r) =>
      r.map((x) => runInfoSchema.parse(x)),
    );
    expect(runs.map((r) => r.datasetUri)).toEqual([
      `s3://${w.bucket}/uploads/churn-holiday.csv`,
      `s3://${w.bucket}/uploads/churn-holiday.csv`,
    ]);
    expect(runs[0]?.runId).not.toBe(runs[1]?.runId);
    const record = await w.registry.runs.getRun(MODEL, runs[0]?.runId ?? '');
    expect(record).toMatchObject({ trigger: 'manual', reason: '', status: 'training' });
  });

  it('refuses a named dataset that does not exist, or is not an s3:// URI, writing nothing', async () => {
    const before = await w.scan();
    const missing = `s3://${w.bucket}/uploads/nope.csv`;
    await expect(handler(pipelineState({ dataset: missing }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(`dataset ${missing} does not exist`),
    });
    await expect(handler(pipelineState({ dataset: '/tmp/churn.csv' }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('"/tmp/churn.csv" is not an s3://bucket/key URI'),
    });
    expect(await w.scan()).toBe(before);
  });

  it('invalid execution input ⇒ ValidationError naming the field', async () => {
    const input = pipelineState();
    const cases: [unknown, RegExp][] = [
      [{ ...input, model: undefined }, /execution state: model/],
      [{ ...input, training: { ...input.training, target: undefined } }, /training\.target/],
      [{ ...input, training: { ...input.training, holdoutFraction: 0.95 } }, /training\.holdoutFraction/],
      [{ ...input, trigger: 'cron' }, /trigger/],
      [{ ...input, execution: undefined }, /execution state: execution/],
    ];
    const before = await w.scan();
    for (const [event, field] of cases) {
      await expect(handler(event)).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringMatching(field),
      });
    }
    expect(await w.scan()).toBe(before);
  });
});
