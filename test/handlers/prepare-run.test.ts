import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInfoSchema } from '../../lambdas/contracts/pipeline.js';
import { type HandlerWorld, handlerWorld, MODEL, pipelineState, REQUESTOR } from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;

describe('prepare-run handler (PrepareRun state, DynamoDB Local + s3rver)', () => {
  let w: HandlerWorld;
  let handler: Handler;
  const put = (key: string, body: string) => w.objects.put({ bucket: w.bucket, key }, body, 'text/csv');
  const get = (key: string) => w.objects.getText({ bucket: w.bucket, key });
  /** A seeded dataset: 40 players with 1 to 3 rows each, a churned target. */
  const dataset = (rows = 40, start = 0) =>
    `player_id,sessions,churned\n${Array.from({ length: rows }, (_, i) => `p${start + Math.floor(i / 2)},${(i * 7) % 13},${i % 3 === 0 ? 1 : 0}`).join('\n')}\n`;

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
    await put('datasets/churn/b-2030-02.csv', dataset());
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
      runUri: `s3://${w.bucket}/runs/churn/${run.runId}/`,
      holdoutRows: expect.any(Number),
      // No validation split asked for: the trainer's MLCYCLE_VALIDATION is empty.
      validationPath: '',
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
    await put('uploads/churn-holiday.csv', dataset(30, 100));
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

  it('splits the dataset into the run’s inputs: excluded columns dropped, holdout labels apart, a key on one side', async () => {
    await put('uploads/split.csv', dataset(60, 500));
    const input = pipelineState({ dataset: `s3://${w.bucket}/uploads/split.csv` });
    const training = { ...input.training, splitKey: 'player_id', validationFraction: 0.2 };
    const run = runInfoSchema.parse(await handler({ ...input, training }));
    const at = (file: string) => get(`runs/churn/${run.runId}/${file}`);
    const lines = (text: string) => text.trim().split('\n');
    const train = lines(await at('input/train.csv'));
    const validation = lines(await at('input/validation.csv'));
    const holdout = lines(await at('input/holdout-features.csv'));
    const labels = lines(await at('evaluation/holdout-labels.csv'));
    // player_id is excluded: no job sees it; the holdout features carry no target.
    expect(train[0]).toBe('sessions,churned');
    expect(validation[0]).toBe('sessions,churned');
    expect(holdout[0]).toBe('sessions');
    expect(labels[0]).toBe('churned');
    expect(labels.length).toBe(holdout.length);
    expect(run.holdoutRows).toBe(holdout.length - 1);
    expect(train.length + validation.length + holdout.length - 3).toBe(60);
    expect(holdout.length).toBeGreaterThan(1);
    // The train job's MLCYCLE_VALIDATION: where stage-in puts the validation split on its volume.
    expect(run.validationPath).toBe('/mlcycle/input/validation.csv');
    // Same dataset, same seed ⇒ the same split.
    const again = runInfoSchema.parse(await handler({ ...input, training }));
    expect(await get(`runs/churn/${again.runId}/input/holdout-features.csv`)).toBe(holdout.join('\n') + '\n');
  });

  it('refuses a dataset without the target or split key column, naming it and the columns', async () => {
    await put('uploads/no-key.csv', dataset(20, 900));
    const input = pipelineState({ dataset: `s3://${w.bucket}/uploads/no-key.csv` });
    await expect(
      handler({ ...input, training: { ...input.training, splitKey: 'account_id' } }),
    ).rejects.toMatchObject({
      name: 'DataError',
      message: expect.stringContaining(
        'has no split key column account_id (columns: player_id, sessions, churned): fix models.churn.evaluation.splitKey',
      ),
    });
    await expect(
      handler({ ...input, training: { ...input.training, target: 'churn_7d' } }),
    ).rejects.toMatchObject({
      name: 'DataError',
      message: expect.stringContaining(
        'has no target column churn_7d (columns: player_id, sessions, churned)',
      ),
    });
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
