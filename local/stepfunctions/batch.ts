import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import {
  predictSources,
  progressLoop,
  publishPredictions,
  publishTrainOutputs,
  stagePredictInputs,
  stageTrainInputs,
  syncCheckpoints,
} from '../../lambdas/adapters/pipeline/stager.js';
import type { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import type { BatchJobDetail } from '../../lambdas/contracts/batch-jobs.js';
import { STAGER_ENV } from '../../lambdas/contracts/stager.js';
import {
  CONTRACT_ENV,
  predictModeEnv,
  type TaskType,
  trainModeEnv,
} from '../../lambdas/contracts/trainer.js';
import { checkTrainerHyperparameters, loadTrainer, TRAINER_MANIFEST_FILE } from '../trainers/manifest.js';
import { runTrainerLocally, type TrainerRunResult } from '../trainers/run.js';
import type { LocalJob, LocalJobs } from './batch-api.js';

/** SubmitJob's parameters as the ASL's Batch job tasks give them (the SDK integration's shape). */
export interface SubmitJobParameters {
  readonly JobName: string;
  readonly JobQueue: string;
  readonly JobDefinition: string;
  readonly Parameters?: Readonly<Record<string, string>>;
  readonly EcsPropertiesOverride?: {
    readonly TaskProperties?: readonly {
      readonly Containers?: readonly {
        readonly Name?: string;
        readonly Environment?: readonly { Name: string; Value: string }[];
      }[];
    }[];
  };
  readonly Timeout?: { readonly AttemptDurationSeconds?: number };
}

/** How often a local Train job that asks for progress copies copies its metrics.jsonl. */
export const LOCAL_PROGRESS_INTERVAL_MS = 1000;

/** A failed job, as the local runner reports it: Batch's status reason and the failed container. */
export class BatchTaskFailed extends Error {
  override readonly name = 'States.TaskFailed';
}

/** What the job definition of a model says, locally read from the config as the stack builds it. */
export interface LocalJobDefinition {
  readonly mode: 'train' | 'predict';
  readonly trainerDir: string;
  readonly model: string;
  readonly task: TaskType;
  readonly target: string;
  readonly useGpu: boolean;
}

export interface LocalBatchOptions {
  readonly logsDir: string;
  /** Environment the "container" starts from (endpoints and credentials of the emulators). */
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly onLog?: (line: string) => void;
  /** The job definition (`<prefix><model>`) as the stack would register it from the config. */
  readonly resolveJob: (jobDefinition: string) => LocalJobDefinition | undefined;
  /** The local S3, for the stager. */
  readonly objects: S3Objects;
  /** Aborting ends the job as TerminateJob does: its process is killed, the job fails. */
  readonly signal?: AbortSignal;
}

type JobResult = { JobId: string; JobName: string; Status: string; LogFile: string };

/** Every container's environment overrides, as one map (the local job runs them as one process). */
function environmentOverrides(params: SubmitJobParameters): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const task of params.EcsPropertiesOverride?.TaskProperties ?? []) {
    for (const container of task.Containers ?? []) {
      for (const { Name, Value } of container.Environment ?? []) overrides[Name] = Value;
    }
  }
  return overrides;
}

/**
 * One Batch job of the lifecycle on the embedded default, run to its end: the stager brings the
 * run's inputs from the local S3, the trainer folder's train or predict entry runs on this
 * machine (runTrainerLocally) with the contract environment, the outputs go back. Throws
 * BatchTaskFailed (its message the job's description as JSON) when the job fails.
 */
export async function runBatchJobLocally(
  params: SubmitJobParameters,
  options: LocalBatchOptions,
  jobId = `local-${Date.now().toString(36)}`,
): Promise<JobResult> {
  mkdirSync(options.logsDir, { recursive: true });
  const logFile = join(options.logsDir, `${params.JobName}.log`);
  const overrides = environmentOverrides(params);
  const job = options.resolveJob(params.JobDefinition);
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
        Container: {
          Name: job?.mode === 'predict' ? 'predictor' : 'trainer',
          ExitCode: code,
          Reason: reason,
          LogFile: logFile,
        },
      }),
    );
  if (!job) throw fail(`no job definition ${params.JobDefinition}: the config defines no such model`);
  if (!existsSync(join(job.trainerDir, TRAINER_MANIFEST_FILE))) {
    throw fail(
      `${job.trainerDir} has no ${TRAINER_MANIFEST_FILE}: a trainer folder declares its train and predict entries there (docs/trainer-contract.md)`,
    );
  }
  await runContractJob(params, options, { ...job, overrides, logFile, fail });
  return { JobId: jobId, JobName: params.JobName, Status: 'SUCCEEDED', LogFile: logFile };
}

/**
 * The embedded default's compute environment: at most one job per core of this machine runs at
 * once, the others wait (RUNNABLE on Batch, where the compute environment's vCPUs bound them the
 * same way). A sweep's Map asks for its spec's concurrency; here it gets min(that, cores).
 */
class ComputeSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly size: number) {
    this.free = size;
  }
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
export const LOCAL_COMPUTE_SLOTS = new ComputeSlots(Math.max(1, availableParallelism()));

/**
 * SubmitJob on the embedded default: returns the job id at once and runs the job in the
 * background; when it ends, `onEnded` gets the "Batch Job State Change" detail EventBridge would
 * deliver on AWS (with the job's parameters, so the task token reaches the handler).
 */
export function submitBatchJobLocally(
  params: SubmitJobParameters,
  options: LocalBatchOptions & {
    readonly onEnded: (detail: BatchJobDetail) => Promise<void>;
    /** Where the job is listed while it runs, for the local Batch API (ListJobs, TerminateJob). */
    readonly jobs?: LocalJobs;
  },
): { JobId: string; JobName: string } {
  const jobId = `local-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const stop = new AbortController();
  const listed: LocalJob = {
    jobId,
    jobName: params.JobName,
    jobQueue: params.JobQueue,
    status: 'RUNNING',
    createdAt: Date.now(),
    terminate: (reason) => stop.abort(reason),
  };
  options.jobs?.add(listed);
  const base = {
    jobId,
    jobName: params.JobName,
    jobQueue: params.JobQueue,
    parameters: { ...params.Parameters },
  };
  void LOCAL_COMPUTE_SLOTS.run(() => runBatchJobLocally(params, { ...options, signal: stop.signal }, jobId))
    .then(
      (result): BatchJobDetail => ({
        ...base,
        status: 'SUCCEEDED',
        // The runner's log file stands for the container's log stream.
        ecsProperties: {
          taskProperties: [{ containers: [{ name: 'trainer', exitCode: 0, logStreamName: result.LogFile }] }],
        },
      }),
      (err: Error): BatchJobDetail => {
        const described = err instanceof BatchTaskFailed ? (JSON.parse(err.message) as FailedJob) : undefined;
        return {
          ...base,
          status: 'FAILED',
          statusReason: described?.StatusReason ?? err.message,
          ecsProperties: {
            taskProperties: [
              {
                containers: [
                  {
                    name: described?.Container.Name ?? 'trainer',
                    exitCode: described?.Container.ExitCode ?? 1,
                    reason: described?.Container.Reason ?? err.message,
                    logStreamName: described?.Container.LogFile ?? null,
                  },
                ],
              },
            ],
          },
        };
      },
    )
    .then((detail) => {
      listed.status = detail.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
      return options.onEnded(detail);
    })
    .catch((err: Error) => options.onLog?.(`the end of job ${jobId} was not delivered: ${err.message}`));
  return { JobId: jobId, JobName: params.JobName };
}

interface FailedJob {
  readonly StatusReason: string;
  readonly Container: { Name: string; ExitCode: number | null; Reason: string; LogFile: string };
}

interface ContractJob extends LocalJobDefinition {
  readonly overrides: Record<string, string>;
  readonly logFile: string;
  readonly fail: (reason: string, statusReason?: string, code?: number | null) => BatchTaskFailed;
}

async function runContractJob(params: SubmitJobParameters, options: LocalBatchOptions, job: ContractJob) {
  const { overrides, fail, task } = job;
  const { objects } = options;
  const runUri = overrides[STAGER_ENV.runUri];
  if (!runUri) throw fail(`the job lacks ${STAGER_ENV.runUri} in its environment`);
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
        ...(options.signal ? { signal: options.signal } : {}),
        onOutput: (line) => options.onLog?.(line),
        hostEnv: options.baseEnv,
      });
    } catch (err) {
      // No interpreter with the trainer's modules, a bad trainer.yaml: the runtime's one line.
      throw fail((err as Error).message);
    }
    if (result.timedOut)
      throw fail(result.lastStderrLine, 'Job attempt duration exceeded timeout', result.exitCode);
    if (options.signal?.aborted) {
      const reason = String(options.signal.reason ?? 'terminated');
      throw fail(`terminated: ${reason}`, reason, result.exitCode);
    }
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
        model: job.model,
        runId: overrides[CONTRACT_ENV.runId] ?? '',
        codeVersion: options.baseEnv[CONTRACT_ENV.codeVersion] ?? 'unknown',
        task,
        target: job.target,
        train: inputs.train,
        validation: inputs.validation,
        hyperparameters,
        outputDir: inputs.outputDir,
        checkpointDir: inputs.checkpointDir,
        useGpu: job.useGpu,
      });
      // The checkpoint-sync container's progress copies (a sweep trial's Train job asks for
      // them): every second here, where the local S3 costs nothing, whatever the job asks.
      const progress = new AbortController();
      const copying = overrides[STAGER_ENV.progressSeconds]
        ? progressLoop(objects, {
            runUri,
            outputDir: inputs.outputDir,
            intervalMs: LOCAL_PROGRESS_INTERVAL_MS,
            signal: progress.signal,
            ...(options.onLog ? { log: options.onLog } : {}),
          })
        : undefined;
      try {
        await run(env);
      } finally {
        progress.abort();
        await copying;
        await syncCheckpoints(objects, { runUri, checkpointDir: inputs.checkpointDir, direction: 'up' });
      }
      await publishTrainOutputs(objects, { runUri, outputDir: inputs.outputDir });
    } else {
      // The stager container's own reading of its environment: the run's holdout by default, or
      // (Deploy's smoke test) other rows, predictions file and a registered artifact.
      const sources = predictSources(overrides);
      const staged = await stagePredictInputs(objects, {
        ...(sources.artifact ?? { runUri }),
        inputUri: sources.inputUri,
        workDir,
      });
      await run(predictModeEnv({ task, ...staged }));
      await publishPredictions(objects, {
        predictionsFile: staged.predictions,
        predictionsUri: sources.predictionsUri,
      });
    }
  } catch (err) {
    if (err instanceof BatchTaskFailed) throw err;
    throw fail((err as Error).message);
  }
}
