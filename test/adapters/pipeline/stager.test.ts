import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder } from '../../../lambdas/adapters/pipeline/s3-folders.js';
import {
  publishPredictions,
  publishTrainOutputs,
  stagePredictInputs,
  stageTrainInputs,
  syncCheckpoints,
} from '../../../lambdas/adapters/pipeline/stager.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { RUN_INPUTS } from '../../../lambdas/contracts/s3-layout.js';
import { ArtifactValidationError } from '../../../lambdas/domain/errors.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { startTestS3, type TestS3 } from '../../support/emulators.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
function bytes(seed: number, length: number): Buffer {
  const rnd = new Random(seed);
  return Buffer.from(Uint8Array.from({ length }, () => Math.floor(rnd.next() * 256)));
}

/** A train entry's output folder: model/ (nested, binary), metrics, card. */
function writeOutput(dir: string, options: { model?: boolean; card?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  if (options.model !== false) {
    mkdirSync(join(dir, 'model', 'preprocessing'), { recursive: true });
    writeFileSync(join(dir, 'model', 'weights.bin'), bytes(7, 300_000));
    writeFileSync(join(dir, 'model', 'preprocessing', 'scaler.json'), '{"mean":[1,2]}\n');
  }
  writeFileSync(join(dir, 'metrics.jsonl'), '{"epoch":1,"loss":0.5}\n');
  if (options.card !== false) writeFileSync(join(dir, 'model-card.json'), '{"framework":"test"}\n');
}

describe('the stager against s3rver', () => {
  let s3: TestS3;
  let bucket: string;
  let objects: S3Objects;
  const scratch: string[] = [];
  const work = () => {
    const d = mkdtempSync(join(tmpdir(), 'mlcycle-stager-'));
    scratch.push(d);
    return d;
  };
  const runUri = (runId: string) => `s3://${bucket}/runs/churn/${runId}/`;
  const keysOf = async (runId: string) =>
    (await objects.list(bucket, `runs/churn/${runId}/`))
      .map((o) => o.key.slice(`runs/churn/${runId}/`.length))
      .sort();
  const seedRun = async (runId: string, withValidation: boolean) => {
    const put = (name: string, body: string) =>
      objects.put({ bucket, key: `runs/churn/${runId}/${name}` }, body);
    await put(RUN_INPUTS.train, 'a,b,churned\n1,2,0\n');
    if (withValidation) await put(RUN_INPUTS.validation, 'a,b,churned\n3,4,1\n');
    await put(RUN_INPUTS.holdoutFeatures, 'a,b\n5,6\n');
    await put(RUN_INPUTS.holdoutLabels, 'churned\n1\n');
  };

  beforeAll(async () => {
    s3 = await startTestS3();
    bucket = await s3.newBucket();
    objects = new S3Objects(s3.local.client);
  });
  afterAll(async () => {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
    await s3?.stop();
  });

  it('stages train (and validation when there is one), an empty output folder, and never the holdout', async () => {
    await seedRun('r1', false);
    const dir = work();
    const staged = await stageTrainInputs(objects, { runUri: runUri('r1'), workDir: dir });
    expect(staged.validation).toBeUndefined();
    expect(readFileSync(staged.train, 'utf8')).toBe('a,b,churned\n1,2,0\n');
    expect(await filesUnder(dir)).toEqual(['input/train.csv']);
    expect(existsSync(staged.outputDir) && existsSync(staged.checkpointDir)).toBe(true);

    await seedRun('r2', true);
    const dir2 = work();
    const staged2 = await stageTrainInputs(objects, { runUri: runUri('r2'), workDir: dir2 });
    expect(readFileSync(staged2.validation ?? '', 'utf8')).toBe('a,b,churned\n3,4,1\n');
    expect(await filesUnder(dir2)).toEqual(['input/train.csv', 'input/validation.csv']);
  });

  it('says which run has no training split, leaving the work folder untouched', async () => {
    const dir = work();
    await expect(stageTrainInputs(objects, { runUri: runUri('absent'), workDir: dir })).rejects.toThrow(
      `s3://${bucket}/runs/churn/absent/input/train.csv does not exist`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('publishes output/ as is and a deterministic model.tar.gz with its sha256', async () => {
    const out = join(work(), 'output');
    writeOutput(out);
    const published = await publishTrainOutputs(objects, { runUri: runUri('p1'), outputDir: out });
    const archive = await objects.getBytes({ bucket, key: 'runs/churn/p1/model.tar.gz' });
    expect(published).toEqual({
      artifactUri: `s3://${bucket}/runs/churn/p1/model.tar.gz`,
      sha256: sha256(archive),
      bytes: archive.length,
    });
    expect(await keysOf('p1')).toEqual([
      'model.tar.gz',
      'output/metrics.jsonl',
      'output/model-card.json',
      'output/model/preprocessing/scaler.json',
      'output/model/weights.bin',
    ]);
    // GNU tar reads the streamed archive back byte for byte.
    const check = work();
    writeFileSync(join(check, 'model.tar.gz'), archive);
    mkdirSync(join(check, 'x'));
    execFileSync('tar', ['-xzf', join(check, 'model.tar.gz'), '-C', join(check, 'x')]);
    expect(Buffer.compare(readFileSync(join(check, 'x', 'weights.bin')), bytes(7, 300_000))).toBe(0);
    expect(readFileSync(join(check, 'x', 'preprocessing', 'scaler.json'), 'utf8')).toBe('{"mean":[1,2]}\n');
    // The same folder, written again elsewhere, packs to the same bytes.
    const again = join(work(), 'output');
    writeOutput(again);
    const second = await publishTrainOutputs(objects, { runUri: runUri('p2'), outputDir: again });
    expect(second.sha256).toBe(published.sha256);
  });

  it('removes output files a failed earlier attempt left behind', async () => {
    await objects.put({ bucket, key: 'runs/churn/p3/output/stale-from-attempt-1.txt' }, 'old');
    const out = join(work(), 'output');
    writeOutput(out);
    await publishTrainOutputs(objects, { runUri: runUri('p3'), outputDir: out });
    expect(await keysOf('p3')).not.toContain('output/stale-from-attempt-1.txt');
  });

  it('refuses a run that wrote no model/ folder or no model card, uploading nothing', async () => {
    const noModel = join(work(), 'output');
    writeOutput(noModel, { model: false });
    const err = await publishTrainOutputs(objects, { runUri: runUri('n1'), outputDir: noModel }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ArtifactValidationError);
    expect((err as Error).message).toMatch(
      /^no artifact: the train entry exited 0 but wrote no model\/ folder/,
    );
    expect(await keysOf('n1')).toEqual([]);

    const noCard = join(work(), 'output');
    writeOutput(noCard, { card: false });
    await expect(publishTrainOutputs(objects, { runUri: runUri('n2'), outputDir: noCard })).rejects.toThrow(
      /no model card: the train entry exited 0 but wrote no model-card.json/,
    );
    expect(await keysOf('n2')).toEqual([]);

    const emptyModel = join(work(), 'output');
    writeOutput(emptyModel, { model: false });
    mkdirSync(join(emptyModel, 'model'));
    await expect(
      publishTrainOutputs(objects, { runUri: runUri('n3'), outputDir: emptyModel }),
    ).rejects.toThrow(/model\/ folder is empty/);

    const linked = join(work(), 'output');
    writeOutput(linked);
    symlinkSync('/etc/hostname', join(linked, 'model', 'host'));
    await expect(publishTrainOutputs(objects, { runUri: runUri('n4'), outputDir: linked })).rejects.toThrow(
      /model\/host is a symbolic link/,
    );
    expect(await keysOf('n4')).toEqual([]);
  });

  it('stages the predict entry: model/ restored byte for byte after the sha256 check, the holdout features', async () => {
    await seedRun('q1', false);
    const out = join(work(), 'output');
    writeOutput(out);
    const published = await publishTrainOutputs(objects, { runUri: runUri('q1'), outputDir: out });
    const inputUri = `${runUri('q1')}${RUN_INPUTS.holdoutFeatures}`;
    for (const source of [
      { runUri: runUri('q1') },
      { artifactUri: published.artifactUri, sha256: published.sha256 },
    ]) {
      const dir = work();
      const staged = await stagePredictInputs(objects, { ...source, inputUri, workDir: dir });
      expect(await filesUnder(staged.modelDir)).toEqual(['preprocessing/scaler.json', 'weights.bin']);
      expect(Buffer.compare(readFileSync(join(staged.modelDir, 'weights.bin')), bytes(7, 300_000))).toBe(0);
      expect(readFileSync(staged.input, 'utf8')).toBe('a,b\n5,6\n');
      // Under the one name the predictor's MLCYCLE_INPUT names in its job definition.
      expect(staged.input).toBe(join(dir, 'input', 'predict-input.csv'));
      expect(await filesUnder(dir)).toEqual([
        'input/predict-input.csv',
        'model/preprocessing/scaler.json',
        'model/weights.bin',
      ]);
    }
  });

  it('refuses an artifact whose bytes changed after training, and the holdout labels as input', async () => {
    await seedRun('q2', false);
    const out = join(work(), 'output');
    writeOutput(out);
    const published = await publishTrainOutputs(objects, { runUri: runUri('q2'), outputDir: out });
    const inputUri = `${runUri('q2')}${RUN_INPUTS.holdoutFeatures}`;
    const wrong = 'f'.repeat(64);
    const dir = work();
    await expect(
      stagePredictInputs(objects, {
        artifactUri: published.artifactUri,
        sha256: wrong,
        inputUri,
        workDir: dir,
      }),
    ).rejects.toThrow(`has sha256 ${published.sha256}, but ${wrong} was recorded`);
    expect(readdirSync(dir)).toEqual([]);
    await expect(
      stagePredictInputs(objects, {
        runUri: runUri('q2'),
        inputUri: `${runUri('q2')}${RUN_INPUTS.holdoutLabels}`,
        workDir: work(),
      }),
    ).rejects.toThrow(/holds the holdout labels, which no job may read/);
    await expect(
      stagePredictInputs(objects, { runUri: runUri('never-trained'), inputUri, workDir: work() }),
    ).rejects.toThrow(/no artifact: .*never-trained\/model.tar.gz does not exist/);
  });

  it('publishes predictions, and says when the predict entry wrote none', async () => {
    const dir = work();
    const file = join(dir, 'predictions.jsonl');
    writeFileSync(file, '0.2\n0.9\n');
    const predictionsUri = `${runUri('x1')}${RUN_INPUTS.predictions}`;
    await publishPredictions(objects, { predictionsFile: file, predictionsUri });
    expect(await objects.getText({ bucket, key: 'runs/churn/x1/evaluation/predictions.jsonl' })).toBe(
      '0.2\n0.9\n',
    );
    await expect(
      publishPredictions(objects, { predictionsFile: join(dir, 'none.jsonl'), predictionsUri }),
    ).rejects.toThrow(/no predictions: the predict entry exited 0 but wrote no file/);
  });

  it('syncs checkpoints up (changed files only, deletions mirrored) and back down for a retried attempt', async () => {
    const ckpt = join(work(), 'checkpoints');
    mkdirSync(ckpt);
    writeFileSync(join(ckpt, 'epoch-1.pt'), bytes(11, 5000));
    writeFileSync(join(ckpt, 'state.json'), '{"epoch":1}');
    const first = await syncCheckpoints(objects, {
      runUri: runUri('c1'),
      checkpointDir: ckpt,
      direction: 'up',
    });
    expect(first.uploaded).toEqual(['epoch-1.pt', 'state.json']);
    writeFileSync(join(ckpt, 'epoch-2.pt'), bytes(12, 5000));
    rmSync(join(ckpt, 'epoch-1.pt'));
    writeFileSync(join(ckpt, 'state.json'), '{"epoch":2}');
    const second = await syncCheckpoints(objects, {
      runUri: runUri('c1'),
      checkpointDir: ckpt,
      direction: 'up',
    });
    expect(second).toEqual({
      uploaded: ['epoch-2.pt', 'state.json'],
      deleted: ['epoch-1.pt'],
      downloaded: [],
    });
    const third = await syncCheckpoints(objects, {
      runUri: runUri('c1'),
      checkpointDir: ckpt,
      direction: 'up',
    });
    expect(third.uploaded).toEqual([]);

    // The retried attempt: a fresh work folder gets the checkpoints through stageTrainInputs.
    await seedRun('c1', false);
    const staged = await stageTrainInputs(objects, { runUri: runUri('c1'), workDir: work() });
    expect(await filesUnder(staged.checkpointDir)).toEqual(['epoch-2.pt', 'state.json']);
    expect(Buffer.compare(readFileSync(join(staged.checkpointDir, 'epoch-2.pt')), bytes(12, 5000))).toBe(0);
  });

  it('never empties the remote checkpoints from an empty local folder (a sidecar that started early)', async () => {
    const ckpt = join(work(), 'checkpoints');
    mkdirSync(ckpt);
    writeFileSync(join(ckpt, 'epoch-3.pt'), bytes(13, 100));
    await syncCheckpoints(objects, { runUri: runUri('c2'), checkpointDir: ckpt, direction: 'up' });
    const empty = join(work(), 'checkpoints');
    mkdirSync(empty);
    const r = await syncCheckpoints(objects, { runUri: runUri('c2'), checkpointDir: empty, direction: 'up' });
    expect(r.deleted).toEqual([]);
    expect(await keysOf('c2')).toEqual(['checkpoints/epoch-3.pt']);
  });
});
