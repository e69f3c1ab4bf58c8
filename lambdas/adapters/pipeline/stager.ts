import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUN_INPUTS } from '../../contracts/s3-layout.js';
import { STAGER_ENV } from '../../contracts/stager.js';
import { TRAINER_OUTPUT } from '../../contracts/trainer.js';
import { ArtifactValidationError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { parseS3Uri, type S3Location, type S3Objects, s3Uri } from '../s3-objects.js';
import { packDirectory, unpackArchive } from './model-archive.js';
import { downloadFolder, uploadFolder } from './s3-folders.js';

/**
 * The stager: maps a run's S3 keys (RUN_INPUTS under runs/<model>/<runId>/) to the local
 * folders of the trainer contract (docs/trainer-contract.md) and back. The local batch runner
 * calls it in-process; on AWS Batch the stager container (containers/stager) calls it before
 * and after the user's image runs, on a shared volume.
 *
 * It never reads evaluation/holdout-labels.csv: those stay with the platform.
 */

/** The metadata key (x-amz-meta-sha256) the artifact's sha256 is recorded under. */
export const ARTIFACT_SHA256_METADATA = 'sha256';

/** A run's folder as bucket and key prefix (ending in /), from s3://bucket/runs/<model>/<runId>/. */
export function runLocation(runUri: string): { bucket: string; prefix: string } {
  const { bucket, key } = parseS3Uri(runUri);
  if (key === '')
    throw new ValidationError(`run URI "${runUri}" has no key: expected s3://bucket/runs/<model>/<runId>/`);
  return { bucket, prefix: key.endsWith('/') ? key : `${key}/` };
}

const at = (run: { bucket: string; prefix: string }, name: string): S3Location => ({
  bucket: run.bucket,
  key: `${run.prefix}${name}`,
});

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}
async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/** Creates `dir` empty; refuses a folder that already holds files (a stale run would leak in). */
async function emptyFolder(dir: string): Promise<void> {
  const existing = await readdir(dir).catch(() => undefined);
  if (existing && existing.length > 0) {
    throw new ValidationError(
      `${dir} is not empty (${existing.length} entries): stage each job into a fresh work folder`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
}

export interface StagedTrainInputs {
  readonly train: string;
  readonly validation?: string;
  readonly outputDir: string;
  readonly checkpointDir: string;
}

/**
 * Before the train entry: input/train.csv (and input/validation.csv when the run has one) into
 * `workDir/input/`, an empty `workDir/output/`, and the run's checkpoints/ (from an earlier attempt,
 * e.g. a Spot reclaim) into `workDir/checkpoints/`.
 */
export async function stageTrainInputs(
  objects: S3Objects,
  opts: { runUri: string; workDir: string },
): Promise<StagedTrainInputs> {
  const run = runLocation(opts.runUri);
  const outputDir = join(opts.workDir, 'output');
  const checkpointDir = join(opts.workDir, 'checkpoints');
  const trainLoc = at(run, RUN_INPUTS.train);
  // Checked before anything is written: a run without its split leaves no folders behind.
  if (!(await objects.head(trainLoc))) {
    throw new NotFoundError(
      `the run has no training split: ${s3Uri(run.bucket, trainLoc.key)} does not exist (the pipeline's split step writes it before training)`,
    );
  }
  await emptyFolder(outputDir);
  await emptyFolder(checkpointDir);
  const train = join(opts.workDir, RUN_INPUTS.train);
  await objects.getFile(trainLoc, train);
  let validation: string | undefined;
  if (await objects.head(at(run, RUN_INPUTS.validation))) {
    validation = join(opts.workDir, RUN_INPUTS.validation);
    await objects.getFile(at(run, RUN_INPUTS.validation), validation);
  }
  await syncCheckpoints(objects, { runUri: opts.runUri, checkpointDir, direction: 'down' });
  return { train, ...(validation ? { validation } : {}), outputDir, checkpointDir };
}

export interface PublishedArtifact {
  readonly artifactUri: string;
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * After the train entry exited 0: checks model/ and model-card.json (nothing is uploaded when
 * either is missing), packs model/ (deterministic tar.gz), uploads the output folder as is under
 * output/ (removing files an earlier attempt left there), and model.tar.gz last, with its sha256
 * as metadata: its presence means the outputs are complete.
 */
export async function publishTrainOutputs(
  objects: S3Objects,
  opts: { runUri: string; outputDir: string },
): Promise<PublishedArtifact> {
  const run = runLocation(opts.runUri);
  const modelDir = join(opts.outputDir, TRAINER_OUTPUT.modelDir);
  if (!(await isDirectory(modelDir))) {
    throw new ArtifactValidationError(
      `no artifact: the train entry exited 0 but wrote no ${TRAINER_OUTPUT.modelDir}/ folder in MLCYCLE_OUTPUT_DIR (${opts.outputDir}); write everything the predict entry needs there`,
      { outputDir: opts.outputDir },
    );
  }
  if ((await readdir(modelDir)).length === 0) {
    throw new ArtifactValidationError(
      `no artifact: the train entry exited 0 but its ${TRAINER_OUTPUT.modelDir}/ folder is empty (${modelDir})`,
      { outputDir: opts.outputDir },
    );
  }
  if (!(await isFile(join(opts.outputDir, TRAINER_OUTPUT.modelCard)))) {
    throw new ArtifactValidationError(
      `no model card: the train entry exited 0 but wrote no ${TRAINER_OUTPUT.modelCard} in MLCYCLE_OUTPUT_DIR (${opts.outputDir}); see docs/trainer-contract.md`,
      { outputDir: opts.outputDir },
    );
  }
  const scratch = await mkdtemp(join(tmpdir(), 'mlcycle-pack-'));
  try {
    const archive = join(scratch, RUN_INPUTS.modelArchive);
    const packed = await packDirectory(modelDir, archive);
    await uploadFolder(
      objects,
      opts.outputDir,
      { bucket: run.bucket, prefix: `${run.prefix}${RUN_INPUTS.output}` },
      {
        prune: true,
      },
    );
    const loc = at(run, RUN_INPUTS.modelArchive);
    await objects.putFile(loc, archive, {
      contentType: 'application/gzip',
      metadata: { [ARTIFACT_SHA256_METADATA]: packed.sha256 },
    });
    return { artifactUri: s3Uri(loc.bucket, loc.key), ...packed };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface StagedPredictInputs {
  readonly modelDir: string;
  readonly input: string;
  readonly predictions: string;
}

/** What a predict job reads and writes, from its stager's environment (STAGER_ENV). */
export interface PredictSources {
  readonly runUri: string;
  readonly inputUri: string;
  readonly predictionsUri: string;
  readonly artifact?: { artifactUri: string; sha256: string };
}

/**
 * A predict job's sources from its environment: the run's holdout features and
 * evaluation/predictions.jsonl by default; Deploy's smoke test names other rows, another
 * predictions file and the registered artifact with its sha256 (both or neither).
 */
export function predictSources(env: Readonly<Record<string, string | undefined>>): PredictSources {
  const runUri = env[STAGER_ENV.runUri];
  if (!runUri) {
    throw new ValidationError(
      `${STAGER_ENV.runUri} is not set: the job definition or the state machine sets it`,
    );
  }
  const run = runLocation(runUri);
  const runFile = (name: string) => s3Uri(run.bucket, `${run.prefix}${name}`);
  const artifactUri = env[STAGER_ENV.artifactUri];
  const sha256 = env[STAGER_ENV.artifactSha256];
  if (Boolean(artifactUri) !== Boolean(sha256)) {
    throw new ValidationError(
      `${STAGER_ENV.artifactUri} and ${STAGER_ENV.artifactSha256} go together: set both or neither`,
    );
  }
  return {
    runUri,
    inputUri: env[STAGER_ENV.inputUri] || runFile(RUN_INPUTS.holdoutFeatures),
    predictionsUri: env[STAGER_ENV.predictionsUri] || runFile(RUN_INPUTS.predictions),
    ...(artifactUri && sha256 ? { artifact: { artifactUri, sha256 } } : {}),
  };
}

/** Where the artifact is: a run (its model.tar.gz and recorded sha256) or an artifact URI and its sha256. */
export type ArtifactSource = { runUri: string } | { artifactUri: string; sha256: string };

/**
 * Before the predict entry: the artifact into `workDir/model.tar.gz`, its sha256 checked against
 * the recorded one, unpacked to `workDir/model/`; the input rows to `workDir/input/predict-input.csv`
 * (or `.jsonl`), JOB_VOLUME.predictInput. Refuses the holdout labels as input.
 */
export async function stagePredictInputs(
  objects: S3Objects,
  opts: ArtifactSource & { inputUri: string; workDir: string },
): Promise<StagedPredictInputs> {
  const input = parseS3Uri(opts.inputUri);
  if (input.key.endsWith(RUN_INPUTS.holdoutLabels)) {
    throw new ValidationError(
      `${opts.inputUri} holds the holdout labels, which no job may read: predict on ${RUN_INPUTS.holdoutFeatures}`,
    );
  }
  const extension = /\.(csv|jsonl)$/.exec(basename(input.key))?.[0];
  if (!extension) {
    throw new ValidationError(`predict input ${opts.inputUri} must be a .csv or .jsonl file`);
  }
  // One name whatever the rows are: the predictor's MLCYCLE_INPUT is fixed in its job definition.
  const name = `predict-input${extension}`;
  const { artifact, expected } = await artifactOf(objects, opts);
  const modelDir = join(opts.workDir, TRAINER_OUTPUT.modelDir);
  // Downloaded and checked outside the work folder: a bad artifact leaves nothing behind.
  const scratch = await mkdtemp(join(tmpdir(), 'mlcycle-artifact-'));
  try {
    const archive = join(scratch, RUN_INPUTS.modelArchive);
    const got = await objects.getFile(artifact, archive);
    if (got.sha256 !== expected) {
      throw new ArtifactValidationError(
        `${s3Uri(artifact.bucket, artifact.key)} has sha256 ${got.sha256}, but ${expected} was recorded: the artifact changed after training; retrain or re-register it`,
        { expected, actual: got.sha256 },
      );
    }
    await emptyFolder(modelDir);
    await unpackArchive(archive, modelDir);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const inputFile = join(opts.workDir, 'input', name);
  await objects.getFile(input, inputFile);
  return { modelDir, input: inputFile, predictions: join(opts.workDir, 'predictions.jsonl') };
}

async function artifactOf(
  objects: S3Objects,
  source: ArtifactSource,
): Promise<{ artifact: S3Location; expected: string }> {
  if ('artifactUri' in source) {
    if (!/^[0-9a-f]{64}$/.test(source.sha256)) {
      throw new ValidationError(`sha256 "${source.sha256}" is not 64 lower-case hex digits`);
    }
    return { artifact: parseS3Uri(source.artifactUri), expected: source.sha256 };
  }
  const artifact = at(runLocation(source.runUri), RUN_INPUTS.modelArchive);
  const meta = await objects.metadata(artifact);
  if (!meta) {
    throw new ArtifactValidationError(
      `no artifact: ${s3Uri(artifact.bucket, artifact.key)} does not exist (did training finish?)`,
    );
  }
  const expected = meta[ARTIFACT_SHA256_METADATA];
  if (!expected) {
    throw new ArtifactValidationError(
      `${s3Uri(artifact.bucket, artifact.key)} has no recorded sha256 (x-amz-meta-${ARTIFACT_SHA256_METADATA}); pass artifactUri with its sha256`,
    );
  }
  return { artifact, expected };
}

/** After the predict entry exited 0: its predictions file to `predictionsUri`. */
export async function publishPredictions(
  objects: S3Objects,
  opts: { predictionsFile: string; predictionsUri: string },
): Promise<void> {
  if (!(await isFile(opts.predictionsFile))) {
    throw new ArtifactValidationError(
      `no predictions: the predict entry exited 0 but wrote no file at MLCYCLE_PREDICTIONS (${opts.predictionsFile})`,
    );
  }
  await objects.putFile(parseS3Uri(opts.predictionsUri), opts.predictionsFile, {
    contentType: 'application/x-ndjson',
  });
}

/**
 * The run's checkpoints/ and the local checkpoint folder: `up` uploads changed files and removes
 * remote files the trainer deleted; `down` restores the remote ones (before a retried attempt).
 */
export async function syncCheckpoints(
  objects: S3Objects,
  opts: { runUri: string; checkpointDir: string; direction: 'up' | 'down' },
): Promise<{ uploaded: string[]; deleted: string[]; downloaded: string[] }> {
  const run = runLocation(opts.runUri);
  const prefix = { bucket: run.bucket, prefix: `${run.prefix}${RUN_INPUTS.checkpoints}` };
  if (opts.direction === 'down') {
    return {
      uploaded: [],
      deleted: [],
      downloaded: await downloadFolder(objects, prefix, opts.checkpointDir),
    };
  }
  // An empty folder is a sidecar that started before stage-in restored the checkpoints, or a
  // volume that is gone: mirroring it would delete the checkpoints a retry resumes from.
  const prune = (await readdir(opts.checkpointDir)).length > 0;
  const up = await uploadFolder(objects, opts.checkpointDir, prefix, { prune, skipUnchanged: true });
  return { ...up, downloaded: [] };
}

/** At most this many characters of a growing metrics.jsonl are copied (what its readers read). */
const PROGRESS_MAX_CHARS = 1024 * 1024;

/**
 * Copies the complete lines of the trainer's output/metrics.jsonl, as it stands mid-training, to
 * the run's progress/metrics.jsonl, when they are more than `copied` characters (what the last
 * call copied). Returns the characters copied now (unchanged when nothing new). A line still
 * being written waits for the next call; a trainer that writes no metrics file copies nothing.
 */
export async function publishProgress(
  objects: S3Objects,
  opts: { runUri: string; outputDir: string; copied: number },
): Promise<number> {
  const text = await readFile(join(opts.outputDir, TRAINER_OUTPUT.metrics), 'utf8').catch(() => '');
  const complete = text.slice(0, PROGRESS_MAX_CHARS);
  const end = complete.lastIndexOf('\n') + 1;
  if (end <= opts.copied) return opts.copied;
  const run = runLocation(opts.runUri);
  await objects.put(at(run, RUN_INPUTS.progressMetrics), complete.slice(0, end), 'application/x-ndjson');
  return end;
}

/**
 * publishProgress every `intervalMs` until `signal` aborts: the Train job's side task on AWS
 * (the checkpoint-sync container) and on the local runner alike. Nothing is copied once the
 * trainer has exited (the abort): what it wrote last is published with its outputs and judged
 * when its training has ended, not as progress. A failed copy is said and tried again at the
 * next tick; it never fails the training.
 */
export async function progressLoop(
  objects: S3Objects,
  opts: {
    runUri: string;
    outputDir: string;
    intervalMs: number;
    signal: AbortSignal;
    log?: (line: string) => void;
  },
): Promise<void> {
  let copied = 0;
  while (!opts.signal.aborted) {
    await sleep(opts.intervalMs, undefined, { signal: opts.signal }).catch(() => undefined);
    if (opts.signal.aborted) return;
    try {
      copied = await publishProgress(objects, { ...opts, copied });
    } catch (err) {
      opts.log?.(JSON.stringify({ progressCopyFailed: (err as Error).message }));
    }
  }
}

/**
 * A run's published artifact: model.tar.gz with the sha256 publishTrainOutputs recorded on it.
 * Refused when the run has none (a train that never published) or the record is missing.
 */
export async function readPublishedArtifact(objects: S3Objects, runUri: string): Promise<PublishedArtifact> {
  const run = runLocation(runUri);
  const loc = at(run, RUN_INPUTS.modelArchive);
  const artifactUri = s3Uri(loc.bucket, loc.key);
  const head = await objects.head(loc);
  const sha256 = (await objects.metadata(loc))?.[ARTIFACT_SHA256_METADATA];
  if (!head || !sha256) {
    throw new ArtifactValidationError(
      `no artifact: ${artifactUri} ${head ? 'has no recorded sha256' : 'does not exist'}; the run's training did not publish one`,
    );
  }
  return { artifactUri, sha256, bytes: head.size };
}
