import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointSyncLoop, parseStagerEnv, runStager } from '../../../containers/stager/src/stager-job.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { JOB_VOLUME } from '../../../lambdas/contracts/stager.js';
import { startTestS3, type TestS3 } from '../../support/emulators.js';

describe('the stager entry (containers/stager)', () => {
  let s3: TestS3;
  let bucket: string;
  let objects: S3Objects;
  const scratch: string[] = [];
  const work = () => {
    const d = mkdtempSync(join(tmpdir(), 'mlcycle-stager-entry-'));
    scratch.push(d);
    return d;
  };
  const log: string[] = [];
  const deps = () => ({ objects, signal: new AbortController().signal, log: (l: string) => log.push(l) });

  beforeAll(async () => {
    s3 = await startTestS3();
    bucket = await s3.newBucket();
    objects = new S3Objects(s3.local.client);
  });
  afterAll(async () => {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
    await s3?.stop();
  });

  it('refuses an unknown mode, a missing variable, a half-given artifact and a bad interval, naming them', () => {
    const base = { MLCYCLE_RUN_URI: 's3://b/runs/m/r/', MLCYCLE_WORK_DIR: '/mlcycle' };
    expect(() => parseStagerEnv(['stage-in'], base)).toThrow(
      /stager mode "stage-in" is not one of stage-in-train/,
    );
    expect(() => parseStagerEnv(['stage-in-train'], { MLCYCLE_WORK_DIR: '/w' })).toThrow(
      /MLCYCLE_RUN_URI is not set/,
    );
    expect(() => parseStagerEnv(['stage-in-predict'], { ...base, MLCYCLE_ARTIFACT_URI: 's3://b/k' })).toThrow(
      /set both or neither/,
    );
    expect(() =>
      parseStagerEnv(['checkpoint-sync'], { ...base, MLCYCLE_CHECKPOINT_SYNC_SECONDS: '0.5' }),
    ).toThrow(/MLCYCLE_CHECKPOINT_SYNC_SECONDS="0.5" must be a whole number/);
    expect(parseStagerEnv(['stage-in-predict'], base)).toMatchObject({
      inputUri: 's3://b/runs/m/r/input/holdout-features.csv',
      predictionsUri: 's3://b/runs/m/r/evaluation/predictions.jsonl',
      checkpointSyncSeconds: 60,
    });
  });

  it('runs a train job and its evaluation job through the four stage modes', async () => {
    const runUri = `s3://${bucket}/runs/churn/e1/`;
    await objects.put({ bucket, key: 'runs/churn/e1/input/train.csv' }, 'x,y\n1,0\n');
    await objects.put({ bucket, key: 'runs/churn/e1/input/holdout-features.csv' }, 'x\n2\n3\n');
    const env = (mode: string, workDir: string) =>
      parseStagerEnv([mode], { MLCYCLE_RUN_URI: runUri, MLCYCLE_WORK_DIR: workDir });

    const trainDir = work();
    await runStager(env('stage-in-train', trainDir), deps());
    // Any user of the trainer image can write its outputs.
    expect(statSync(join(trainDir, 'output')).mode & 0o777).toBe(0o777);
    // The trainer's part.
    mkdirSync(join(trainDir, 'output', 'model'));
    writeFileSync(join(trainDir, 'output', 'model', 'w.txt'), '0.5');
    writeFileSync(join(trainDir, 'output', 'model-card.json'), '{}');
    const published = (await runStager(env('stage-out-train', trainDir), deps())) as { sha256: string };
    expect(published.sha256).toMatch(/^[0-9a-f]{64}$/);

    const predictDir = work();
    await runStager(env('stage-in-predict', predictDir), deps());
    // Where the predictor's job definition points MLCYCLE_INPUT, whatever rows were staged.
    expect(readFileSync(join(predictDir, 'model', 'w.txt'), 'utf8')).toBe('0.5');
    expect(
      readFileSync(join(predictDir, relative(JOB_VOLUME.mountPath, JOB_VOLUME.predictInput)), 'utf8'),
    ).toBe('x\n2\n3\n');
    writeFileSync(join(predictDir, 'predictions.jsonl'), '0.1\n0.7\n');
    await runStager(env('stage-out-predict', predictDir), deps());
    expect(await objects.getText({ bucket, key: 'runs/churn/e1/evaluation/predictions.jsonl' })).toBe(
      '0.1\n0.7\n',
    );
  });

  it('checkpoint-sync uploads while the trainer runs and once more when stopped', async () => {
    const runUri = `s3://${bucket}/runs/churn/cs/`;
    const dir = join(work(), 'checkpoints');
    mkdirSync(dir);
    writeFileSync(join(dir, 'epoch-1.pt'), 'one');
    const ready = join(dir, '..', 'ready');
    const stop = new AbortController();
    const lines: string[] = [];
    const loop = checkpointSyncLoop(objects, {
      runUri,
      checkpointDir: dir,
      seconds: 1,
      signal: stop.signal,
      log: (l) => lines.push(l),
      readyFile: ready,
    });
    const keys = async () => (await objects.list(bucket, 'runs/churn/cs/')).map((o) => o.key);
    // Nothing before stage-in says the volume is ready.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await keys()).toEqual([]);
    writeFileSync(ready, '');
    const deadline = Date.now() + 10_000;
    while ((await keys()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await keys()).toEqual(['runs/churn/cs/checkpoints/epoch-1.pt']);
    // Written just before the trainer exits: the final sync on stop catches it.
    writeFileSync(join(dir, 'epoch-2.pt'), 'two');
    stop.abort();
    await loop;
    expect(await keys()).toEqual([
      'runs/churn/cs/checkpoints/epoch-1.pt',
      'runs/churn/cs/checkpoints/epoch-2.pt',
    ]);
    expect(lines.some((l) => l.includes('epoch-2.pt'))).toBe(true);
  });

  it("checkpoint-sync of a sweep trial's job also copies the complete lines of the growing metrics.jsonl", async () => {
    const runUri = `s3://${bucket}/runs/churn/pg/`;
    const workDir = work();
    mkdirSync(join(workDir, 'output'));
    mkdirSync(join(workDir, 'checkpoints'));
    expect(
      () =>
        parseStagerEnv(['checkpoint-sync'], {
          MLCYCLE_RUN_URI: runUri,
          MLCYCLE_WORK_DIR: workDir,
          MLCYCLE_PROGRESS_SECONDS: '0',
        }),
      'a bad interval is refused by name',
    ).toThrow(/MLCYCLE_PROGRESS_SECONDS="0" must be a whole number of seconds from 1 to 3600/);
    const env = parseStagerEnv(['checkpoint-sync'], {
      MLCYCLE_RUN_URI: runUri,
      MLCYCLE_WORK_DIR: workDir,
      MLCYCLE_PROGRESS_SECONDS: '1',
    });
    expect(env.progressSeconds).toBe(1);
    const stop = new AbortController();
    const sidecar = runStager(env, { objects, signal: stop.signal, log: () => undefined });
    const progress = { bucket, key: 'runs/churn/pg/progress/metrics.jsonl' };
    const read = async () => (await objects.head(progress)) && (await objects.getText(progress));
    const metrics = join(workDir, 'output', 'metrics.jsonl');
    // One whole epoch and one being written: only the whole one is copied.
    writeFileSync(metrics, '{"epoch":1,"trainLoss":0.5}\n{"epoch":2,"trai');
    const deadline = Date.now() + 10_000;
    while (!(await read()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await read()).toBe('{"epoch":1,"trainLoss":0.5}\n');
    const two = '{"epoch":1,"trainLoss":0.5}\n{"epoch":2,"trainLoss":0.25}\n';
    writeFileSync(metrics, two);
    while ((await read()) !== two && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await read()).toBe(two);
    // Written as the trainer exits: not progress (the outputs publish it; CheckTrial judges it).
    writeFileSync(metrics, `${two}{"epoch":3,"trainLoss":0.2}\n`);
    stop.abort();
    await sidecar;
    expect(await read()).toBe(two);
  });

  it('checkpoint-sync of any other job copies no progress', async () => {
    const runUri = `s3://${bucket}/runs/churn/np/`;
    const workDir = work();
    mkdirSync(join(workDir, 'output'));
    mkdirSync(join(workDir, 'checkpoints'));
    writeFileSync(join(workDir, 'output', 'metrics.jsonl'), '{"epoch":1}\n');
    const stop = new AbortController();
    const sidecar = runStager(
      parseStagerEnv(['checkpoint-sync'], { MLCYCLE_RUN_URI: runUri, MLCYCLE_WORK_DIR: workDir }),
      {
        objects,
        signal: stop.signal,
        log: () => undefined,
      },
    );
    await new Promise((r) => setTimeout(r, 1500));
    stop.abort();
    await sidecar;
    expect(await objects.list(bucket, 'runs/churn/np/')).toEqual([]);
  });
});
