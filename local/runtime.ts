import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import './polyfills.js';
import { S3Objects } from '../lambdas/adapters/s3-objects.js';
import { batchJobStateChangeEvent } from '../lambdas/contracts/batch-jobs.js';
import { gitCodeVersion } from '../lambdas/contracts/code-version.js';
import type { MlcycleConfig } from '../lambdas/contracts/config-schema.js';
import { ENV, TRAINER_ENV } from '../lambdas/contracts/env.js';
import {
  type ExecutionFinalStatus,
  executionStatusChangeEvent,
} from '../lambdas/contracts/execution-events.js';
import {
  type FunctionEnvWorld,
  optionalEnvironment,
  sharedEnvironment,
} from '../lambdas/contracts/function-env.js';
import { HANDLERS, type HandlerContract, type HandlerName } from '../lambdas/contracts/handlers.js';
import {
  alertTopicName,
  jobDefinitionPrefix,
  predictJobDefinitionPrefix,
  stateMachineName,
  trainingQueueName,
} from '../lambdas/contracts/names.js';
import { notificationRules } from '../lambdas/contracts/notifications.js';
import { ASL_FILE, aslSubstitutions } from '../lambdas/contracts/state-machine.js';
import { trainingSettings } from '../lambdas/domain/pipeline/admission.js';
import { type LocalRoute, startLocalApi } from './api-gateway.js';
import { type DynamoLocal, ensureRegistryTable, startDynamoLocal } from './emulators/dynamodb.js';
import { stopOrphanedDynamoLocal } from './emulators/dynamodb-process.js';
import { LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION } from './emulators/local-aws.js';
import { ensureBucket, type S3Local, startS3Local } from './emulators/s3.js';
import { LocalLambdas, localFunctionArn } from './lambdas.js';
import { LocalS3Notifications } from './s3-notifications.js';
import { startTogether } from './start-together.js';
import { startSfnApiServer } from './stepfunctions/api-server.js';
import {
  type LocalJobDefinition,
  type SubmitJobParameters,
  submitBatchJobLocally,
} from './stepfunctions/batch.js';
import { LocalJobs, startBatchApiServer } from './stepfunctions/batch-api.js';
import { loadDefinition } from './stepfunctions/definition.js';
import { LocalStepFunctions } from './stepfunctions/engine.js';
import type { ExecutionRecord } from './stepfunctions/execution-record.js';
import type { HistoryEvent } from './stepfunctions/history.js';

/** Where a running local stack can be reached; written to <dir>/endpoints.json for the CLI. */
export interface LocalEndpoints {
  readonly pid: number;
  readonly dynamodb: string;
  readonly s3: string;
  readonly sfn: string;
  readonly api: string;
  readonly tableName: string;
  readonly bucket: string;
  readonly stateMachineArn: string;
  readonly outboxDir: string;
}

export interface LocalStackOptions {
  readonly config: MlcycleConfig;
  /** All local state lives here. @default .mlcycle */
  readonly dir?: string;
  /** Repository root (handlers, ASL file, trainer). @default process.cwd() */
  readonly root?: string;
  /** Start from empty state. @default false */
  readonly fresh?: boolean;
  /** Fixed ports (0 = any free one). */
  readonly ports?: { dynamodb?: number; s3?: number; sfn?: number; batch?: number; api?: number };
  readonly log?: (line: string) => void;
  readonly onExecutionEvent?: (execution: ExecutionRecord, event: HistoryEvent) => void;
}

export interface LocalStack {
  readonly endpoints: LocalEndpoints;
  readonly dir: string;
  readonly engine: LocalStepFunctions;
  readonly lambdas: LocalLambdas;
  readonly notifications: LocalS3Notifications;
  /** The routes its HTTP API serves (the contract's). */
  readonly routes: readonly LocalRoute[];
  /** What the functions' environment was built from (localEnvironment). */
  readonly functionEnv: FunctionEnvWorld;
  readonly dynamo: DynamoLocal;
  readonly s3: S3Local;
  stop(): Promise<void>;
}

export const LOCAL_TABLE = 'mlcycle-registry';
export const LOCAL_BUCKET = 'mlcycle-artifacts';
export const ENDPOINTS_FILE = 'endpoints.json';
/** The config the stack runs with (what `MLCYCLE_CONFIG_FILE` names). */
export const DEPLOYED_CONFIG_FILE = 'deployed-config.json';

/**
 * The model and mode a job definition name stands for (`<project>-trainer-<model>`,
 * `<project>-predict-<model>`), with the model's trainer folder (training.image) under root.
 */
export function localJob(
  config: MlcycleConfig,
  root: string,
  definition: string,
): LocalJobDefinition | undefined {
  for (const [mode, prefix] of [
    ['train', jobDefinitionPrefix(config.project)],
    ['predict', predictJobDefinitionPrefix(config.project)],
  ] as const) {
    if (!definition.startsWith(prefix)) continue;
    const name = definition.slice(prefix.length);
    const model = config.models[name];
    if (!model) continue;
    // What the stack's job definition holds as its containers' fixed environment (lib/trainer-jobs.ts).
    const settings = trainingSettings(config, name);
    return {
      mode,
      trainerDir: resolve(root, model.training.image),
      model: name,
      task: settings.task,
      target: settings.target,
      useGpu: settings.useGpu === '1',
    };
  }
  return undefined;
}

/** The state machine's placeholders, valued for the embedded default. */
/** The training queue's ARN on the embedded default (what the ASL submits to, and ListJobs reads). */
export const localJobQueueArn = (project: string) =>
  `arn:aws:batch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:job-queue/${trainingQueueName(project)}`;

export function localSubstitutions(project: string): Record<string, string> {
  return aslSubstitutions({
    trainingJobQueueArn: localJobQueueArn(project),
    trainingJobDefinitionPrefix: jobDefinitionPrefix(project),
    predictJobDefinitionPrefix: predictJobDefinitionPrefix(project),
    functionArn: localFunctionArn,
  });
}

/** The files and endpoints of a running embedded default that the functions' environment names. */
export interface LocalResources {
  readonly stateMachineArn: string;
  /** The working tree's git sha (`-dirty` with changes), as the trainer jobs get it. */
  readonly codeVersion: string;
  readonly apiUrl: string;
  readonly signingKeyFile: string;
  readonly outboxDir: string;
  readonly configFile: string;
}

/**
 * The functions' environment in the embedded default, built by the contract
 * (lambdas/contracts/function-env.ts) from local values, as the stack builds it from its resources.
 *
 * The handlers share one process here, so they share one environment (sharedEnvironment: the union
 * of each one's). Per handler it cannot be: process.env is one object for the whole process, the
 * handlers run concurrently (executions, S3 events and HTTP requests at once), and modules shared
 * by several handlers are evaluated once and keep what they read (e.g. kit/monitoring-deps.ts,
 * built once for baseline and drift). Only a process or worker per handler would isolate it.
 */
export function localEnvironment(config: MlcycleConfig, local: LocalResources): FunctionEnvWorld {
  return {
    values: {
      [ENV.table]: LOCAL_TABLE,
      [ENV.bucket]: LOCAL_BUCKET,
      [ENV.stateMachineArn]: local.stateMachineArn,
      [ENV.approvalBaseUrl]: local.apiUrl,
      // Clients download from the local gateway's /downloads route (the CDN's on AWS).
      [ENV.clientBaseUrl]: local.apiUrl,
      [ENV.signingSecretFile]: local.signingKeyFile,
      [ENV.emailSender]: config.notifications.sender,
      [ENV.outboxDir]: local.outboxDir,
      // The handlers' schemas require a topic; with an outbox, alerts go there instead.
      [ENV.alertTopicArn]: `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${alertTopicName(config.project)}`,
      [ENV.configFile]: local.configFile,
      [ENV.codeVersion]: local.codeVersion,
      [ENV.jobQueue]: localJobQueueArn(config.project),
      // The local gateway passes the `--as` name (a local convenience).
      [ENV.authMode]: 'local',
      [ENV.logLevel]: process.env[ENV.logLevel] ?? 'WARN',
    },
    optional: optionalEnvironment(config),
  };
}

/** S3 event notifications as the stack configures them on the bucket, for the config's models. */
export function localNotifications(
  config: MlcycleConfig,
  lambdas: Pick<LocalLambdas, 'invoke'>,
  log?: (line: string) => void,
): LocalS3Notifications {
  return new LocalS3Notifications(lambdas, notificationRules(Object.keys(config.models)), log);
}

/** Handlers the contract subscribes to an execution ending with this status (HandlerContract.onExecutionStatus). */
function subscribedTo(status: string): HandlerName[] {
  return (Object.entries(HANDLERS) as [HandlerName, HandlerContract][])
    .filter(([, c]) => (c.onExecutionStatus as readonly string[] | undefined)?.includes(status))
    .map(([name]) => name);
}

/** Handlers the contract subscribes to the training queue's ended jobs (HandlerContract.onBatchJobEnded). */
function batchJobSubscribers(): HandlerName[] {
  return (Object.entries(HANDLERS) as [HandlerName, HandlerContract][])
    .filter(([, c]) => c.onBatchJobEnded === true)
    .map(([name]) => name);
}

function signingKeyFile(dir: string): string {
  const file = join(dir, 'secrets', 'approval-signing.key');
  if (!existsSync(file)) {
    mkdirSync(join(dir, 'secrets'), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return file;
}

/**
 * Starts the embedded default: DynamoDB Local, s3rver, the lifecycle ASL on
 * aws-local-stepfunctions behind a Step Functions API endpoint, the HTTP API, and S3 event
 * notifications — with the process environment pointing every AWS SDK client at them, so the
 * handlers run unchanged.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const root = resolve(options.root ?? process.cwd());
  const codeVersion = gitCodeVersion(root) ?? 'unknown';
  const dir = resolve(options.dir ?? '.mlcycle');
  const log = options.log ?? (() => undefined);
  if (options.fresh) {
    // Its pid file goes with the folder: stop a killed run's JVM first (refused if one is live).
    await stopOrphanedDynamoLocal(join(dir, 'dynamodb'));
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  const project = options.config.project;
  const stateMachineArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${stateMachineName(project)}`;
  const outboxDir = join(dir, 'outbox');

  const [dynamo, s3] = await startTogether([
    startDynamoLocal({ dataDir: join(dir, 'dynamodb'), port: options.ports?.dynamodb ?? 0 }),
    startS3Local({ directory: join(dir, 's3'), port: options.ports?.s3 ?? 0 }),
  ] as const);
  const started: { close(): Promise<void> }[] = [];
  try {
    await Promise.all([
      ensureRegistryTable(dynamo.client, LOCAL_TABLE),
      ensureBucket(s3.client, LOCAL_BUCKET),
    ]);

    const lambdas = new LocalLambdas(root);
    const localJobs = new LocalJobs();
    const engine = new LocalStepFunctions({
      stateMachineArn,
      definition: loadDefinition(join(root, ASL_FILE), localSubstitutions(project)),
      dir: join(dir, 'executions'),
      ...(options.onExecutionEvent ? { onEvent: options.onExecutionEvent } : {}),
      // What the stack's EventBridge rule does on AWS: the handlers subscribed to an ended
      // execution's status get the same "Execution Status Change" event.
      onExecutionEnded: async (execution) => {
        for (const name of subscribedTo(execution.status)) {
          try {
            await lambdas.invoke(
              name,
              executionStatusChangeEvent(
                {
                  ...execution,
                  status: execution.status as ExecutionFinalStatus,
                  stopDate: execution.stopDate ?? Date.now(),
                },
                { region: LOCAL_REGION, account: LOCAL_ACCOUNT, id: randomUUID() },
              ),
            );
          } catch (err) {
            log(`${name} failed for ${execution.name}: ${(err as Error).message}`);
            throw err;
          }
        }
      },
      runner: {
        lambda: (arn, input) => lambdas.invoke(lambdas.nameOf(arn), input),
        invokeAsync: async (fn, payload) => {
          await lambdas.invoke(lambdas.nameOf(fn), payload);
        },
        submitBatchJob: async (params) =>
          submitBatchJobLocally(params as SubmitJobParameters, {
            logsDir: join(dir, 'logs'),
            baseEnv: { ...process.env, [TRAINER_ENV.codeVersion]: codeVersion },
            onLog: (line) => log(`  [trainer] ${line}`),
            objects: new S3Objects(s3.client),
            resolveJob: (definition) => localJob(options.config, root, definition),
            jobs: localJobs,
            // What the stack's EventBridge rule on the training queue does on AWS.
            onEnded: async (detail) => {
              for (const name of batchJobSubscribers()) {
                await lambdas.invoke(
                  name,
                  batchJobStateChangeEvent(detail, { region: LOCAL_REGION, id: randomUUID() }),
                );
              }
            },
          }),
      },
    });
    const sfnApi = await startSfnApiServer(engine, options.ports?.sfn ?? 0);
    started.push(sfnApi);
    // The Batch API subset handlers call (ListJobs, TerminateJob) in front of the local jobs.
    const batchApi = await startBatchApiServer(localJobs, options.ports?.batch ?? 0);
    started.push(batchApi);
    const api = await startLocalApi(lambdas, {
      port: options.ports?.api ?? 0,
      log,
      // CloudFront's bucket origin on AWS: served artifacts straight from the bucket.
      downloads: { objects: new S3Objects(s3.client), bucket: LOCAL_BUCKET },
    });
    started.push(api);

    // The deployed config of the embedded default: the config `up` started with. Handlers read
    // every policy from this file, whatever config a CLI command is given later.
    const configFile = join(dir, DEPLOYED_CONFIG_FILE);
    writeFileSync(configFile, `${JSON.stringify(options.config, null, 2)}\n`);
    const functionEnv = localEnvironment(options.config, {
      stateMachineArn,
      codeVersion,
      apiUrl: api.url,
      signingKeyFile: signingKeyFile(dir),
      outboxDir,
      configFile,
    });
    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SFN: sfnApi.endpoint,
      AWS_ENDPOINT_URL_BATCH: batchApi.endpoint,
      // Every handler runs in this one process, so they share one environment: the union of what
      // the contract gives each (localEnvironment); see there why it cannot be per handler.
      ...sharedEnvironment(functionEnv),
    });
    delete process.env.AWS_PROFILE;
    // Executions a previous run of the runtime left running (or whose end it could not report)
    // were failed on load: close what they left open now that the handlers can run.
    await engine.notifyUnreported();

    const notifications = localNotifications(options.config, lambdas, log);
    s3.onObjectEvent((record) => notifications.deliver(record));

    const endpoints: LocalEndpoints = {
      pid: process.pid,
      dynamodb: dynamo.endpoint,
      s3: s3.endpoint,
      sfn: sfnApi.endpoint,
      api: api.url,
      tableName: LOCAL_TABLE,
      bucket: LOCAL_BUCKET,
      stateMachineArn,
      outboxDir,
    };
    writeFileSync(join(dir, ENDPOINTS_FILE), `${JSON.stringify(endpoints, null, 2)}\n`);

    return {
      endpoints,
      dir,
      engine,
      lambdas,
      notifications,
      routes: api.routes,
      functionEnv,
      dynamo,
      s3,
      async stop() {
        await engine.stopAll();
        await notifications.idle();
        for (const s of started.reverse()) await s.close();
        await Promise.all([s3.stop(), dynamo.stop()]);
        rmSync(join(dir, ENDPOINTS_FILE), { force: true });
      },
    };
  } catch (err) {
    for (const s of started.reverse()) await s.close().catch(() => undefined);
    await Promise.allSettled([s3.stop(), dynamo.stop()]);
    throw err;
  }
}

/** Endpoints of a local stack running in another process (`mlcycle up`), if it is alive. */
export function runningStack(dir = '.mlcycle'): LocalEndpoints | undefined {
  const file = join(resolve(dir), ENDPOINTS_FILE);
  if (!existsSync(file)) return undefined;
  const endpoints = JSON.parse(readFileSync(file, 'utf8')) as LocalEndpoints;
  try {
    process.kill(endpoints.pid, 0);
    return endpoints;
  } catch {
    return undefined;
  }
}
