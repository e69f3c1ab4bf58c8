import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../local/data/churn.js';
import { runBatchJobLocally } from '../../local/stepfunctions/batch.js';
import { SYSTEM_PYTHON } from '../../local/trainers/runtime.js';
import { startTestS3, type TestS3 } from '../support/emulators.js';

/** The local batch runner under the trainer contract: staging, a timeout, checkpoints kept. */
describe('local batch runner (contract trainers)', () => {
  let s3: TestS3;
  let objects: S3Objects;
  let bucket: string;
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-batch-'));

  beforeAll(async () => {
    s3 = await startTestS3();
    objects = new S3Objects(s3.local.client);
    bucket = await s3.newBucket();
    await objects.put(
      { bucket, key: 'runs/slow/r1/input/train.csv' },
      churnCsv({ rows: 50, seed: 3 }),
      'text/csv',
    );
  });
  afterAll(async () => {
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const submit = (
    trainer: string,
    hyperparameters: Record<string, unknown>,
    seconds: number,
    baseEnv: NodeJS.ProcessEnv = process.env,
  ) =>
    runBatchJobLocally(
      {
        JobName: `mlcycle-slow-${trainer}`,
        JobQueue: 'q',
        JobDefinition: 'mlcycle-trainer-slow',
        EcsPropertiesOverride: {
          TaskProperties: [
            {
              Containers: [
                {
                  Name: 'stage-in',
                  Environment: [{ Name: 'MLCYCLE_RUN_URI', Value: `s3://${bucket}/runs/slow/r1/` }],
                },
                {
                  Name: 'trainer',
                  Environment: [
                    { Name: 'MLCYCLE_RUN_ID', Value: 'r1' },
                    { Name: 'MLCYCLE_HYPERPARAMETERS', Value: JSON.stringify(hyperparameters) },
                  ],
                },
              ],
            },
          ],
        },
        Timeout: { AttemptDurationSeconds: seconds },
      },
      {
        logsDir: join(dir, 'logs'),
        baseEnv,
        objects,
        resolveJob: () => ({
          mode: 'train',
          trainerDir: resolve(trainer.includes('/') ? trainer : `test/fixtures/trainers/${trainer}`),
          model: 'slow',
          task: 'binary',
          target: 'churned',
          useGpu: false,
        }),
      },
    );

  it('ends a job past its attempt duration as Batch does, keeping the checkpoints it wrote', async () => {
    const failure = await submit('resumable', { epochs: 30, epoch_seconds: 0.5 }, 2).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(failure?.name).toBe('States.TaskFailed');
    const cause = JSON.parse(failure?.message ?? '{}') as { StatusReason?: string };
    expect(cause.StatusReason).toBe('Job attempt duration exceeded timeout');
    const kept = await objects.list(bucket, 'runs/slow/r1/checkpoints/');
    expect(kept.map((o) => o.key)).toContain('runs/slow/r1/checkpoints/state.json');
    expect(await objects.head({ bucket, key: 'runs/slow/r1/model.tar.gz' })).toBeUndefined();
  }, 60_000);

  it('refuses a hyperparameter the trainer does not declare, naming it, before anything runs', async () => {
    const failure = await submit('resumable', { epochz: 3 }, 30).then(
      () => undefined,
      (err: Error) => err,
    );
    const cause = JSON.parse(failure?.message ?? '{}') as { Container?: { Reason?: string } };
    expect(cause.Container?.Reason).toMatch(/unknown hyperparameter epochz \(did you mean epochs\?\)/);
  });

  it('fails a job whose trainer lacks its runtime with the runtime’s one line, naming what to install', async () => {
    // A python3 that sees no site packages (-S): scikit-learn cannot import there.
    const bare = join(dir, 'bare-python3');
    writeFileSync(bare, `#!/bin/sh\nexec ${SYSTEM_PYTHON} -S "$@"\n`);
    chmodSync(bare, 0o755);
    const failure = await submit('containers/sklearn-ltv', {}, 30, {
      ...process.env,
      MLCYCLE_PYTHON: bare,
    }).then(
      () => undefined,
      (err: Error) => err,
    );
    const cause = JSON.parse(failure?.message ?? '{}') as { Container?: { Reason?: string } };
    expect(cause.Container?.Reason).toBe(
      `MLCYCLE_PYTHON=${bare} lacks scikit-learn, NumPy and joblib, needed to run trainer containers/sklearn-ltv locally: install them there, or unset MLCYCLE_PYTHON to use Debian's python3 (apt-get install python3-sklearn python3-numpy python3-joblib)`,
    );
  });
});
