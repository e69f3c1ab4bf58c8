import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  publishPredictions,
  publishTrainOutputs,
  stagePredictInputs,
  stageTrainInputs,
  syncCheckpoints,
} from '../../lambdas/adapters/pipeline/stager.js';
import type { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { runInputUri } from '../../lambdas/contracts/s3-layout.js';
import {
  CONTRACT_ENV,
  predictModeEnv,
  type TaskType,
  trainModeEnv,
} from '../../lambdas/contracts/trainer.js';
import { checkTrainerHyperparameters, loadTrainer, TRAINER_MANIFEST_FILE } from '../trainers/manifest.js';
import { runTrainerLocally, type TrainerRunResult } from '../trainers/run.js';

export interface SubmitJobParameters {
  readonly JobName: string;
  readonly JobQueue: string;
  readonly JobDefinition: string;
  readonly ContainerOverrides?: { readonly Environment?: readonly { Name: string; Value: string }[] };
  readonly Timeout?: { readonly AttemptDurationSeconds?: number };
}

/** A failed Batch .sync task surfaces to Catch as States.TaskFailed, as on AWS. */
export class BatchTaskFailed extends Error {
  override readonly name = 'States.TaskFailed';
}

/** MLCYCLE_RUN_URI: the run's prefix, from which the stager maps the contract's files. */
export const RUN_URI_ENV = 'MLCYCLE_RUN_URI';

export interface LocalBatchOptions {
  /** Repository root: trainer folders (training.image) are resolved under it. */
  readonly root: string;
  readonly logsDir: string;
  /** Environment the "container" starts from (endpoints and credentials of the emulators). */
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly onLog?: (line: string) => void;
  /** The trainer folder of the model a job definition names (`<prefix><model>`), and the job's mode. */
  readonly resolveJob?: (
    jobDefinition: string,
  ) => { mode: 'train' | 'predict'; trainerDir: string } | undefined;
  /** The local S3, for the stager. */
  readonly objects?: S3Objects;
}

type JobResult = { JobId: string; JobName: string; Status: string; LogFile: string };

/**
 * `batch:submitJob.sync` on the embedded default. A job definition whose model's trainer folder
 * holds a trainer.yaml runs under the trainer contract: the stager brings the run's inputs from
 * the local S3, the train or predict entry runs on this machine (runTrainerLocally), the outputs
 * go back. Otherwise (the reference trainer, which predates the contract) its entrypoint runs as
 * a child process with the Batch container's environment, and a predict job has nothing to do.
 */
export async function runBatchJobLocally(
  params: SubmitJobParameters,
  options: LocalBatchOptions,
): Promise<JobResult> {
  mkdirSync(options.logsDir, { recursive: true });
  const jobId = `local-${Date.now().toString(36)}`;
  const logFile = join(options.logsDir, `${params.JobName}.log`);
  const overrides: Record<string, string> = {};
  for (const { Name, Value } of params.ContainerOverrides?.Environment ?? []) overrides[Name] = Value;
  const job = options.resolveJob?.(params.JobDefinition);
  const fail = (
    reason: string,
    statusReason = 'Essential container in task exited',
    code: number | null = 1,
  ) =>
    new BatchTaskFailed(
      JSON.stringify({
        JobId: jobId,
        JobName: params.JobName,
        Status: 'FAILED',
        StatusReason: statusReason,
        Container: { ExitCode: code, Reason: reason, LogFile: logFile },
      }),
    );
  if (job && existsSync(join(job.trainerDir, TRAINER_MANIFEST_FILE))) {
    if (!options.objects) throw fail('the local batch runner has no S3 to stage the run from');
    await runContractJob(params, options, { ...job, objects: options.objects, overrides, logFile, fail });
    return { JobId: jobId, JobName: params.JobName, Status: 'SUCCEEDED', LogFile: logFile };
  }
  if (job?.mode === 'predict') {
    // The reference trainer has no predict entry: Evaluate scores its model in-process.
    return { JobId: jobId, JobName: params.JobName, Status: 'SUCCEEDED', LogFile: logFile };
  }
  return runReferenceTrainer(params, options, { jobId, logFile, overrides, fail });
}

interface ContractJob {
  readonly mode: 'train' | 'predict';
  readonly trainerDir: string;
  readonly objects: S3Objects;
  readonly overrides: Record<string, string>;
  readonly logFile: string;
  readonly fail: (reason: string, statusReason?: string, code?: number | null) => BatchTaskFailed;
}

async function runContractJob(params: SubmitJobParameters, options: LocalBatchOptions, job: ContractJob) {
  const { objects, overrides, fail } = job;
  const runUri = overrides[RUN_URI_ENV];
  const task = overrides[CONTRACT_ENV.task] as TaskType | undefined;
  if (!runUri || !task) throw fail(`the job lacks ${RUN_URI_ENV} or ${CONTRACT_ENV.task} in its environment`);
  const workDir = resolve(options.logsDir, '..', 'jobs', params.JobName);
  rmSync(workDir, { recursive: true, force: true });
  const limit = params.Timeout?.AttemptDurationSeconds;
  const run = async (env: Record<string, string>): Promise<TrainerRunResult> => {
    let result: TrainerRunResult;
    try {
      result = await runTrainerLocally({
        trainerDir: job.trainerDir,
        mode: job.mode,
        env,
        logFile: job.logFile,
        ...(limit ? { timeoutMs: limit * 1000 } : {}),
        onOutput: (line) => options.onLog?.(line),
        hostEnv: options.baseEnv,
      });
    } catch (err) {
      // No interpreter with the trainer's modules, a bad trainer.yaml: the runtime's one line.
      throw fail((err as Error).message);
    }
    if (result.timedOut)
      throw fail(result.lastStderrLine, 'Job attempt duration exceeded timeout', result.exitCode);
    if (result.exitCode !== 0) {
      throw fail(
        result.lastStderrLine ||
          `the ${job.mode} entry exited with ${result.exitCode ?? result.signal} and said nothing on stderr`,
        'Essential container in task exited',
        result.exitCode,
      );
    }
    return result;
  };
  try {
    if (job.mode === 'train') {
      const trainer = loadTrainer(job.trainerDir);
      const hyperparameters = checkTrainerHyperparameters(
        trainer,
        JSON.parse(overrides[CONTRACT_ENV.hyperparameters] ?? '{}'),
      );
      const inputs = await stageTrainInputs(objects, { runUri, workDir });
      const env = trainModeEnv({
        model: overrides[CONTRACT_ENV.model] ?? '',
        runId: overrides[CONTRACT_ENV.runId] ?? '',
        codeVersion:
          overrides[CONTRACT_ENV.codeVersion] ?? options.baseEnv[CONTRACT_ENV.codeVersion] ?? 'unknown',
        task,
        target: overrides[CONTRACT_ENV.target] ?? '',
        train: inputs.train,
        validation: inputs.validation,
        hyperparameters,
        outputDir: inputs.outputDir,
        checkpointDir: inputs.checkpointDir,
        useGpu: overrides[CONTRACT_ENV.useGpu] === '1',
      });
      try {
        await run(env);
      } finally {
        await syncCheckpoints(objects, { runUri, checkpointDir: inputs.checkpointDir, direction: 'up' });
      }
      await publishTrainOutputs(objects, { runUri, outputDir: inputs.outputDir });
    } else {
      const staged = await stagePredictInputs(objects, {
        runUri,
        inputUri: runInputUri(runUri, 'holdoutFeatures'),
        workDir,
      });
      await run(predictModeEnv({ task, ...staged }));
      await publishPredictions(objects, {
        predictionsFile: staged.predictions,
        predictionsUri: runInputUri(runUri, 'predictions'),
      });
    }
  } catch (err) {
    if (err instanceof BatchTaskFailed) throw err;
    throw fail((err as Error).message);
  }
}

async function runReferenceTrainer(
  params: SubmitJobParameters,
  options: LocalBatchOptions,
  job: { jobId: string; logFile: string; overrides: Record<string, string>; fail: ContractJob['fail'] },
): Promise<JobResult> {
  const log = createWriteStream(job.logFile);
  const env: NodeJS.ProcessEnv = { ...options.baseEnv, ...job.overrides };
  const entry = resolve(options.root, 'containers/trainer/src/main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: options.root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lastError = '';
  const limit = params.Timeout?.AttemptDurationSeconds;
  // As Batch does: a job past its attempt duration is terminated.
  const killer = limit ? setTimeout(() => child.kill('SIGTERM'), limit * 1000) : undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    log.write(chunk);
    for (const line of chunk.toString().split('\n')) if (line.trim()) options.onLog?.(line);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    log.write(chunk);
    const text = chunk.toString().trim();
    if (text) lastError = text.split('\n').filter(Boolean).pop() ?? text;
  });
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  clearTimeout(killer);
  await new Promise<void>((done) => log.end(done));
  if (code !== 0) throw job.fail(lastError, `Essential container in task exited (code ${code})`, code);
  return { JobId: job.jobId, JobName: params.JobName, Status: 'SUCCEEDED', LogFile: job.logFile };
}
