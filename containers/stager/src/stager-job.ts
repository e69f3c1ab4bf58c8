import { access, chmod, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  predictSources,
  progressLoop,
  publishPredictions,
  publishTrainOutputs,
  stagePredictInputs,
  stageTrainInputs,
  syncCheckpoints,
} from '../../../lambdas/adapters/pipeline/stager.js';
import type { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import {
  DEFAULT_CHECKPOINT_SYNC_SECONDS,
  STAGER_ENV,
  STAGER_MODES,
  type StagerMode,
} from '../../../lambdas/contracts/stager.js';
import { ValidationError } from '../../../lambdas/domain/errors.js';

/**
 * The stager container's work, one mode per container of a Batch job (lib/training.ts):
 * stage-in before the user's image, stage-out after it exited 0, checkpoint-sync beside it.
 * Everything is in lambdas/adapters/pipeline/stager.ts, shared with the local batch runner.
 */

export interface StagerEnv {
  readonly mode: StagerMode;
  readonly runUri: string;
  readonly workDir: string;
  readonly inputUri: string;
  readonly predictionsUri: string;
  readonly artifact?: { artifactUri: string; sha256: string };
  readonly checkpointSyncSeconds: number;
  /** Seconds between two copies of the training progress, when it is copied (a sweep trial). */
  readonly progressSeconds?: number;
}

/** The mode (argv) and environment, checked: a clear error names the variable and the value. */
export function parseStagerEnv(argv: readonly string[], env: NodeJS.ProcessEnv): StagerEnv {
  const mode = argv[0];
  if (!STAGER_MODES.includes(mode as StagerMode)) {
    throw new ValidationError(
      `stager mode "${mode ?? ''}" is not one of ${STAGER_MODES.join(', ')}: pass it as the container's command`,
    );
  }
  const required = (name: string): string => {
    const value = env[name];
    if (!value)
      throw new ValidationError(`${name} is not set: the job definition or the state machine sets it`);
    return value;
  };
  const sources = predictSources(env);
  const seconds = (name: string, fallback?: number): number | undefined => {
    const text = env[name];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1 || value > 3600) {
      throw new ValidationError(`${name}="${text}" must be a whole number of seconds from 1 to 3600`);
    }
    return value;
  };
  const progressSeconds = seconds(STAGER_ENV.progressSeconds);
  return {
    mode: mode as StagerMode,
    ...sources,
    workDir: required(STAGER_ENV.workDir),
    checkpointSyncSeconds: seconds(
      STAGER_ENV.checkpointSyncSeconds,
      DEFAULT_CHECKPOINT_SYNC_SECONDS,
    ) as number,
    ...(progressSeconds ? { progressSeconds } : {}),
  };
}

/**
 * The user's image may run as any user: the folders it writes to (and the checkpoints it
 * resumes from) are opened to all. The volume belongs to this one job.
 */
async function openToAll(dir: string): Promise<void> {
  await chmod(dir, 0o777);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await openToAll(path);
    else await chmod(path, 0o666);
  }
}

/** Written by stage-in-train when the volume is ready; the checkpoint sidecar waits for it. */
export const STAGED_MARKER = '.mlcycle-staged';

/**
 * Uploads the checkpoint folder every `seconds` until `signal` aborts, then once more. With
 * `readyFile`, nothing is uploaded before that file exists (stage-in has restored the folder).
 */
export async function checkpointSyncLoop(
  objects: S3Objects,
  opts: {
    runUri: string;
    checkpointDir: string;
    seconds: number;
    signal: AbortSignal;
    log: (line: string) => void;
    readyFile?: string;
  },
): Promise<void> {
  const ready = async () =>
    !opts.readyFile ||
    (await access(opts.readyFile).then(
      () => true,
      () => false,
    ));
  const once = async () => {
    if (!(await ready())) return;
    try {
      const r = await syncCheckpoints(objects, { ...opts, direction: 'up' });
      if (r.uploaded.length + r.deleted.length > 0) {
        opts.log(JSON.stringify({ checkpointSync: { uploaded: r.uploaded, deleted: r.deleted } }));
      }
    } catch (err) {
      // One failed upload is not the end of training: say it and try again next time.
      opts.log(JSON.stringify({ checkpointSyncFailed: (err as Error).message }));
    }
  };
  while (!opts.signal.aborted) {
    await sleep(opts.seconds * 1000, undefined, { signal: opts.signal }).catch(() => undefined);
    await once();
  }
}

/** Runs one mode; resolves with a JSON-able summary for the log. */
export async function runStager(
  env: StagerEnv,
  deps: { objects: S3Objects; signal: AbortSignal; log: (line: string) => void },
): Promise<unknown> {
  const { objects } = deps;
  const dirs = {
    outputDir: join(env.workDir, 'output'),
    checkpointDir: join(env.workDir, 'checkpoints'),
  };
  switch (env.mode) {
    case 'stage-in-train': {
      const staged = await stageTrainInputs(objects, { runUri: env.runUri, workDir: env.workDir });
      await openToAll(staged.outputDir);
      await openToAll(staged.checkpointDir);
      await writeFile(join(env.workDir, STAGED_MARKER), '');
      return staged;
    }
    case 'stage-out-train':
      return publishTrainOutputs(objects, { runUri: env.runUri, outputDir: dirs.outputDir });
    case 'stage-in-predict': {
      const source = env.artifact ?? { runUri: env.runUri };
      const staged = await stagePredictInputs(objects, {
        ...source,
        inputUri: env.inputUri,
        workDir: env.workDir,
      });
      await chmod(env.workDir, 0o777);
      return staged;
    }
    case 'stage-out-predict':
      await publishPredictions(objects, {
        predictionsFile: join(env.workDir, 'predictions.jsonl'),
        predictionsUri: env.predictionsUri,
      });
      return { predictionsUri: env.predictionsUri };
    case 'checkpoint-sync':
      // Beside the checkpoints, a sweep trial's growing metrics.jsonl (its early stopping).
      await Promise.all([
        checkpointSyncLoop(objects, {
          runUri: env.runUri,
          checkpointDir: dirs.checkpointDir,
          seconds: env.checkpointSyncSeconds,
          signal: deps.signal,
          log: deps.log,
          readyFile: join(env.workDir, STAGED_MARKER),
        }),
        env.progressSeconds
          ? progressLoop(objects, {
              runUri: env.runUri,
              outputDir: dirs.outputDir,
              intervalMs: env.progressSeconds * 1000,
              signal: deps.signal,
              log: deps.log,
            })
          : undefined,
      ]);
      return { checkpointSync: 'stopped' };
  }
}
