import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { runInputUri } from '../../contracts/s3-layout.js';
import { TRAINER_OUTPUT } from '../../contracts/trainer.js';
import { ArtifactValidationError } from '../../domain/errors.js';
import { packTar, unpackTar } from '../../domain/ml/tar.js';
import { parseS3Uri, type S3Objects } from '../s3-objects.js';

/**
 * Moves a contract run's files between S3 (RUN_INPUTS under runs/<model>/<runId>/) and the local
 * paths a trainer's entries read and write (docs/trainer-contract.md). Used in-process by the
 * local batch runner and by the Batch stager container entry.
 *
 * Minimal version written by the eval-pipeline lane, against the shared design's names, until the
 * batch-stager lane's lands: stageTrainInputs, publishTrainOutputs, stagePredictInputs,
 * publishPredictions, syncCheckpoints.
 */

export interface TrainInputs {
  readonly train: string;
  readonly validation?: string | undefined;
  readonly outputDir: string;
  readonly checkpointDir: string;
}

export interface PublishedArtifact {
  readonly artifactUri: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** A train entry that exited 0 without what the contract requires. */
export class NoArtifactError extends ArtifactValidationError {}

async function download(objects: S3Objects, uri: string, file: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await objects.getBytes(parseS3Uri(uri)));
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => p.split(sep).join('/'))
    .sort();
}

export async function stageTrainInputs(
  objects: S3Objects,
  options: { runUri: string; workDir: string },
): Promise<TrainInputs> {
  const { runUri, workDir } = options;
  const train = join(workDir, 'input', 'train.csv');
  await download(objects, runInputUri(runUri, 'train'), train);
  let validation: string | undefined;
  if (await objects.head(parseS3Uri(runInputUri(runUri, 'validation')))) {
    validation = join(workDir, 'input', 'validation.csv');
    await download(objects, runInputUri(runUri, 'validation'), validation);
  }
  const outputDir = join(workDir, 'output');
  const checkpointDir = join(workDir, 'checkpoints');
  mkdirSync(outputDir, { recursive: true });
  await syncCheckpoints(objects, { runUri, checkpointDir, direction: 'down' });
  return { train, validation, outputDir, checkpointDir };
}

/** Checkpoints of a run: `up` copies the folder to checkpoints/, `down` restores it before a retry. */
export async function syncCheckpoints(
  objects: S3Objects,
  options: { runUri: string; checkpointDir: string; direction: 'up' | 'down' },
): Promise<void> {
  const base = parseS3Uri(runInputUri(options.runUri, 'checkpoints'));
  mkdirSync(options.checkpointDir, { recursive: true });
  if (options.direction === 'up') {
    for (const path of filesUnder(options.checkpointDir)) {
      await objects.put(
        { bucket: base.bucket, key: `${base.key}${path}` },
        readFileSync(join(options.checkpointDir, path)),
      );
    }
    return;
  }
  for (const o of await objects.list(base.bucket, base.key)) {
    const path = o.key.slice(base.key.length);
    if (!path || path.endsWith('/')) continue;
    writeFileSync(
      join(options.checkpointDir, path),
      await objects.getBytes({ bucket: base.bucket, key: o.key }),
    );
  }
}

/**
 * Uploads MLCYCLE_OUTPUT_DIR as output/ and packs output/model/ into model.tar.gz (deterministic)
 * with its sha256. Refuses, before uploading anything, a train entry that wrote no model/ folder
 * or no model-card.json.
 */
export async function publishTrainOutputs(
  objects: S3Objects,
  options: { runUri: string; outputDir: string },
): Promise<PublishedArtifact> {
  const { runUri, outputDir } = options;
  const modelDir = join(outputDir, TRAINER_OUTPUT.modelDir);
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) {
    throw new NoArtifactError('no artifact: the train entry exited 0 but wrote no model/ folder');
  }
  if (!existsSync(join(outputDir, TRAINER_OUTPUT.modelCard))) {
    throw new NoArtifactError(
      `no artifact: the train entry exited 0 but wrote no ${TRAINER_OUTPUT.modelCard} (required by the trainer contract)`,
    );
  }
  const modelFiles = filesUnder(modelDir);
  if (!modelFiles.length)
    throw new NoArtifactError('no artifact: the train entry wrote an empty model/ folder');
  const out = parseS3Uri(runInputUri(runUri, 'output'));
  for (const path of filesUnder(outputDir)) {
    await objects.put({ bucket: out.bucket, key: `${out.key}${path}` }, readFileSync(join(outputDir, path)));
  }
  const tar = packTar(modelFiles.map((path) => ({ path, data: readFileSync(join(modelDir, path)) })));
  // gzip without a name or mtime in its header (zlib writes neither): the same model, the same bytes.
  const archive = gzipSync(tar, { level: 9 });
  const artifact: PublishedArtifact = {
    artifactUri: runInputUri(runUri, 'modelArchive'),
    sha256: createHash('sha256').update(archive).digest('hex'),
    bytes: archive.length,
  };
  await objects.put(parseS3Uri(artifact.artifactUri), archive, 'application/gzip');
  await objects.putJson(parseS3Uri(runInputUri(runUri, 'modelArchiveRecord')), artifact);
  return artifact;
}

/** The published artifact of a run (publishTrainOutputs' record). */
export async function readPublishedArtifact(objects: S3Objects, runUri: string): Promise<PublishedArtifact> {
  return objects.getJson<PublishedArtifact>(parseS3Uri(runInputUri(runUri, 'modelArchiveRecord')));
}

/**
 * Downloads model.tar.gz (refusing one whose sha256 is not the recorded one) into workDir/model/
 * and the rows to predict; returns the predict entry's paths.
 */
export async function stagePredictInputs(
  objects: S3Objects,
  options: { runUri?: string; artifactUri?: string; sha256?: string; inputUri: string; workDir: string },
): Promise<{ modelDir: string; input: string; predictions: string }> {
  let { artifactUri, sha256 } = options;
  if (!artifactUri || !sha256) {
    if (!options.runUri)
      throw new ArtifactValidationError('stagePredictInputs needs runUri or artifactUri and sha256');
    ({ artifactUri, sha256 } = await readPublishedArtifact(objects, options.runUri));
  }
  const archive = await objects.getBytes(parseS3Uri(artifactUri));
  const actual = createHash('sha256').update(archive).digest('hex');
  if (actual !== sha256) {
    throw new ArtifactValidationError(
      `artifact ${artifactUri} has sha256 ${actual}, not the recorded ${sha256}: it changed after training; retrain or restore it`,
    );
  }
  const modelDir = join(options.workDir, TRAINER_OUTPUT.modelDir);
  for (const { path, data } of unpackTar(gunzipSync(archive))) {
    const file = join(modelDir, path);
    if (relative(modelDir, file).startsWith('..')) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
  }
  const name = options.inputUri.endsWith('.jsonl') ? 'input.jsonl' : 'input.csv';
  const input = join(options.workDir, name);
  await download(objects, options.inputUri, input);
  return { modelDir, input, predictions: join(options.workDir, 'predictions.jsonl') };
}

export async function publishPredictions(
  objects: S3Objects,
  options: { predictionsFile: string; predictionsUri: string },
): Promise<void> {
  if (!existsSync(options.predictionsFile)) {
    throw new ArtifactValidationError('the predict entry exited 0 but wrote no MLCYCLE_PREDICTIONS file');
  }
  await objects.put(
    parseS3Uri(options.predictionsUri),
    readFileSync(options.predictionsFile),
    'application/x-ndjson',
  );
}
