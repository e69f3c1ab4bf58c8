import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runInfoSchema } from '../../lambdas/contracts/pipeline.js';
import {
  type HandlerWorld,
  handlerWorld,
  lineageFor,
  MODEL,
  pipelineState,
  REQUESTOR,
  sha256,
} from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;

describe('prepare-run handler (PrepareRun state, DynamoDB Local + s3rver)', () => {
  let w: HandlerWorld;
  let handler: Handler;
  const put = (key: string, body: string) => w.objects.put({ bucket: w.bucket, key }, body, 'text/csv');
  const get = (key: string) => w.objects.getText({ bucket: w.bucket, key });
  /** A seeded dataset: 40 players with 1 to 3 rows each, a churned target. */
  const dataset = (rows = 40, start = 0) =>
    `player_id,sessions,churned\n${Array.from({ length: rows }, (_, i) => `p${start + Math.floor(i / 2)},${(i * 7) % 13},${i % 3 === 0 ? 1 : 0}`).join('\n')}\n`;

  // Step Functions, asked whether the execution still runs once the run is recorded.
  const sfn = mockClient(SFNClient);
  beforeEach(() => {
    sfn.reset();
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  });

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

  describe('a run on nothing new (the dataset and hyperparameters of the version serving its stage)', () => {
    const STAGE = 'production';
    const weekly = () => dataset(50, 2000);
    const runsUnder = async () => (await w.objects.list(w.bucket, `runs/${MODEL}/`)).map((o) => o.key).sort();

    beforeAll(async () => {
      await put('datasets/churn/weekly.csv', weekly());
      const input = pipelineState({ stage: STAGE });
      const version = await w.registry.versions.registerVersion({
        model: MODEL,
        bump: 'minor',
        metrics: { auc: 0.8 },
        status: 'ready',
        lineage: lineageFor(w.bucket, 'r-serving', {
          datasetUri: `s3://${w.bucket}/datasets/churn/weekly.csv`,
          datasetSha256: sha256(weekly()),
          hyperparameters: { ...input.training.hyperparameters, batchSize: 64 },
        }),
      });
      await w.registry.stages.promote({
        model: MODEL,
        stage: STAGE,
        version: version.version,
        actor: REQUESTOR,
        reason: 'serving',
        action: 'promote',
      });
    });

    it('is recorded as skipped with why and ends in RetrainSkipped, splitting nothing', async () => {
      const serving = await w.registry.stages.getStage(MODEL, STAGE);
      const input = pipelineState({
        stage: STAGE,
        trigger: 'schedule',
        reason: 'weekly retrain',
        dataset: `s3://${w.bucket}/datasets/churn/weekly.csv`,
      });
      const objectsBefore = await runsUnder();
      const runsBefore = (await w.registry.runs.listRuns(MODEL)).length;

      const err = await handler(input).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.name).toBe('RetrainSkipped');
      const message = err?.message ?? '';
      expect(message).toContain(`sha256 ${sha256(weekly())}`);
      expect(message).toContain(`churn ${serving?.version}, serving production`);
      expect(message).toContain('pass --force to train anyway');

      const runs = await w.registry.runs.listRuns(MODEL);
      expect(runs).toHaveLength(runsBefore + 1);
      const skipped = runs.find((r) => r.status === 'skipped');
      expect(skipped).toMatchObject({
        stage: STAGE,
        trigger: 'schedule',
        executionArn: input.execution.arn,
        datasetUri: `s3://${w.bucket}/datasets/churn/weekly.csv`,
        finishedAt: expect.any(String),
        skipped: { datasetSha256: sha256(weekly()), servingVersion: serving?.version },
      });
      expect(message).toBe(`${skipped?.skipped?.reason} (run ${skipped?.runId})`);
      expect(await runsUnder()).toEqual(objectsBefore);
      expect(await w.registry.stages.getStage(MODEL, STAGE)).toEqual(serving);
    });

    it('picks the newest dataset by the same rule before comparing (no dataset named)', async () => {
      // weekly.csv is the newest upload under datasets/churn/ at this point.
      await expect(handler(pipelineState({ stage: STAGE }))).rejects.toMatchObject({
        name: 'RetrainSkipped',
      });
    });

    it('trains when forced, on new data, with other hyperparameters, or for a stage the version does not serve', async () => {
      const base = pipelineState({ stage: STAGE, dataset: `s3://${w.bucket}/datasets/churn/weekly.csv` });
      await put('datasets/churn/weekly-2.csv', dataset(50, 3000));
      const cases = [
        { ...base, force: true },
        { ...base, dataset: `s3://${w.bucket}/datasets/churn/weekly-2.csv` },
        {
          ...base,
          training: { ...base.training, hyperparameters: { ...base.training.hyperparameters, epochs: 9 } },
        },
        { ...base, stage: 'staging' },
      ];
      for (const input of cases) {
        const run = runInfoSchema.parse(await handler(input));
        expect((await w.registry.runs.getRun(MODEL, run.runId))?.status).toBe('training');
      }
    });
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

  it('an execution stopped while PrepareRun ran: the run it recorded is failed (its end was handled before the run existed)', async () => {
    await put('datasets/churn/b-2030-02.csv', dataset());
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ status: 'ABORTED', error: 'mlcycle.Cancelled', cause: 'stopped by the operator' });
    const input = pipelineState();
    const run = runInfoSchema.parse(await handler(input));
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn: input.execution.arn,
    });
    const recorded = await w.registry.runs.getRun(MODEL, run.runId);
    expect(recorded?.status).toBe('failed');
    expect(recorded?.failure).toMatchObject({ kind: 'aborted', error: 'mlcycle.Cancelled' });
    expect(recorded?.failure?.cause).toContain('stopped by the operator');
  });

  it('Step Functions not answering leaves the recorded run training (the check never fails a recorded run)', async () => {
    await put('datasets/churn/b-2030-02.csv', dataset());
    sfn
      .on(DescribeExecutionCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    const run = runInfoSchema.parse(await handler(pipelineState()));
    expect((await w.registry.runs.getRun(MODEL, run.runId))?.status).toBe('training');
  });
});
