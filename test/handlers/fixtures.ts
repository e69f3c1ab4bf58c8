import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTraining } from '../../containers/trainer/src/train-job.js';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import type { MlcycleConfig } from '../../lambdas/contracts/config-schema.js';
import { ENV, type EnvName } from '../../lambdas/contracts/env.js';
import { HANDLERS, type HandlerName } from '../../lambdas/contracts/handlers.js';
import type {
  ApprovalOutcome,
  EvaluationResult,
  GateOutcome,
  Metrics,
  PipelineState,
  Registration,
  RunInfo,
} from '../../lambdas/contracts/pipeline.js';
import type { TrainingSummary } from '../../lambdas/domain/ml/training-summary.js';
import type { Lineage, RunRecord, RunStatus, VersionRecord } from '../../lambdas/domain/registry/types.js';
import { recordDecision } from '../../lambdas/services/approvals/decide.js';
import { churnCsv } from '../../local/data/churn.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { LocalJobs, startBatchApiServer } from '../../local/stepfunctions/batch-api.js';
import {
  startTestDynamo,
  startTestS3,
  type TestDynamo,
  type TestS3,
  tableSnapshot,
} from '../support/emulators.js';

/**
 * Fixtures for the pipeline handlers' tests: the emulators, the environment exactly as the stack
 * sets it (from lambdas/contracts/handlers.ts), and the state as the ASL hands it to each Task
 * (the execution input plus each earlier state's ResultPath).
 */

export const MODEL = 'churn';
export const REQUESTOR = 'ml-lead@studio.test';
export const ALERT_TOPIC = `arn:aws:sns:${LOCAL_REGION}:000000000000:mlcycle-alerts`;
export const METRICS = {
  auc: 0.81,
  accuracy: 0.76,
  precision: 0.64,
  recall: 0.58,
  f1: 0.61,
  logLoss: 0.47,
} satisfies Metrics;

export const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

export interface HandlerWorld {
  readonly dynamo: TestDynamo;
  readonly s3: TestS3;
  readonly table: string;
  readonly bucket: string;
  /** Where the local stand-in for SNS writes alerts (.eml files). */
  readonly outboxDir: string;
  readonly registry: Registry;
  readonly objects: S3Objects;
  /** The whole table, sorted, as JSON: equal before and after ⇒ the handler wrote nothing. */
  scan(): Promise<string>;
  /** Every object key in the bucket with its sha256, sorted, as JSON. */
  s3Snapshot(): Promise<string>;
  /** Alerts written to the outbox, oldest first. */
  outbox(): string[];
  /** Replaces the deployed config the handlers read (as a redeploy of the stack would). */
  deploy(config: MlcycleConfig): void;
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local and s3rver with a fresh table and bucket and sets process.env for one
 * handler: exactly the MLCYCLE_* variables its contract lists (a missing value is a test bug),
 * plus the SDK endpoint overrides and, as on the embedded default, the outbox standing in for
 * SNS. Call before the handler module is first invoked (handlers read their env once).
 */
/** The client base URL the fixture deploys under (the CDN's on AWS). */
export const CLIENT_BASE_URL = 'https://cdn.test/';

let sharedBatchApi: Promise<{ endpoint: string }> | undefined;
/** One empty local Batch API per test process: handlers build their clients once per process. */
const batchApi = () => {
  sharedBatchApi ??= startBatchApiServer(new LocalJobs()).then((server) => {
    server.server.unref();
    return server;
  });
  return sharedBatchApi;
};

export async function handlerWorld(
  handler: HandlerName,
  values: Partial<Record<EnvName, string>> = {},
  config: MlcycleConfig = fixtureConfig(),
): Promise<HandlerWorld> {
  const [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
  const [table, bucket] = await Promise.all([dynamo.newTable(), s3.newBucket()]);
  const outboxDir = mkdtempSync(join(tmpdir(), 'mlcycle-handler-outbox-'));
  const configFile = join(outboxDir, '..', `${table}-deployed-config.json`);
  writeFileSync(configFile, JSON.stringify(config));
  const known: Partial<Record<EnvName, string>> = {
    [ENV.table]: table,
    [ENV.bucket]: bucket,
    [ENV.alertTopicArn]: ALERT_TOPIC,
    [ENV.configFile]: configFile,
    [ENV.authMode]: 'local',
    [ENV.codeVersion]: 'f00dfacef00dfacef00dfacef00dfacef00dface',
    [ENV.jobQueue]: 'arn:aws:batch:us-east-1:000000000000:job-queue/mlcycle-training',
    [ENV.clientBaseUrl]: CLIENT_BASE_URL,
    [ENV.approvalBaseUrl]: 'https://api.test',
    [ENV.stateMachineArn]: STATE_MACHINE_ARN,
    ...values,
  };
  for (const key of Object.keys(process.env)) if (key.startsWith('MLCYCLE_')) delete process.env[key];
  delete process.env.AWS_PROFILE;
  const contract: readonly EnvName[] = HANDLERS[handler].env;
  for (const name of contract) {
    const value = known[name];
    if (value === undefined) throw new Error(`test fixture has no value for ${name} (${handler})`);
    process.env[name] = value;
  }
  Object.assign(process.env, {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.local.endpoint,
    AWS_ENDPOINT_URL_S3: s3.local.endpoint,
    // The Batch API subset the execution-ended handler calls, with no jobs (tests of stopping
    // jobs run a whole local stack).
    AWS_ENDPOINT_URL_BATCH: (await batchApi()).endpoint,
    [ENV.outboxDir]: outboxDir,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  const objects = new S3Objects(s3.local.client);
  return {
    dynamo,
    s3,
    table,
    bucket,
    outboxDir,
    registry: new Registry(dynamo.doc, table),
    objects,
    scan: () => tableSnapshot(dynamo.doc, table),
    async s3Snapshot() {
      const listed = await objects.list(bucket, '');
      const out: string[] = [];
      for (const o of listed.sort((a, b) => (a.key < b.key ? -1 : 1))) {
        out.push(`${o.key} ${await objects.sha256({ bucket, key: o.key })}`);
      }
      return JSON.stringify(out);
    },
    outbox() {
      return readdirSync(outboxDir)
        .filter((f) => f.endsWith('.eml'))
        .sort()
        .map((f) => readFileSync(join(outboxDir, f), 'utf8'));
    },
    deploy(next) {
      writeFileSync(configFile, JSON.stringify(next));
    },
    async stop() {
      await Promise.all([dynamo.stop(), s3.stop()]);
      rmSync(outboxDir, { recursive: true, force: true });
      rmSync(configFile, { force: true });
    },
  };
}

/**
 * The deployed config of the handler tests: staging needs 1 of a@ and b@ (no gates), production
 * 2 of a@, b@ and c@; the requestor is neither. A handler reads every policy from it.
 */
export function fixtureConfig(overrides: Record<string, unknown> = {}): MlcycleConfig {
  return parseConfig(
    {
      models: {
        [MODEL]: {
          target: 'churned',
          exclude: ['player_id'],
          training: {
            hyperparameters: { epochs: 6, learningRate: 0.1, l2: 0.001, seed: 7 },
            timeoutMinutes: 60,
          },
        },
      },
      environments: {
        staging: { approvers: ['a@studio.test', 'b@studio.test'], quorum: 1, approvalTimeoutHours: 1 },
        production: { approvers: ['a@studio.test', 'b@studio.test', 'c@studio.test'], quorum: 2 },
      },
      ...overrides,
    },
    'handler test config',
  );
}

export const STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:000000000000:stateMachine:mlcycle-lifecycle`;
export const EXECUTION_ARN = `arn:aws:states:${LOCAL_REGION}:000000000000:execution:mlcycle-lifecycle:churn-staging-test`;

/** The state Admit builds for a run (the request, who asked, the training settings, the wait). */
export function pipelineState(overrides: Partial<PipelineState> = {}): PipelineState {
  return {
    model: MODEL,
    stage: 'staging',
    requestedBy: REQUESTOR,
    reason: 'weekly retrain',
    trigger: 'manual',
    dataset: '',
    bump: 'minor',
    version: '',
    promote: '',
    execution: { arn: EXECUTION_ARN, name: EXECUTION_ARN.split(':').pop() as string },
    training: {
      task: 'binary',
      trainer: 'containers/trainer',
      splitKey: '',
      validationFraction: 0,
      seed: 42,
      useGpu: '1',
      target: 'churned',
      exclude: ['player_id'],
      hyperparameters: { epochs: 6, learningRate: 0.1, l2: 0.001, seed: 7 },
      holdoutFraction: 0.2,
      timeoutSeconds: 3600,
      taskTimeoutSeconds: 14400,
      predictTimeoutSeconds: 3600,
      predictTaskTimeoutSeconds: 4200,
    },
    approvalWait: { timeoutSeconds: 3600 },
    ...overrides,
  };
}
/** `$.run`, as PrepareRun returns it. */
export function runInfo(bucket: string, runId: string, input: PipelineState = pipelineState()): RunInfo {
  return {
    runId,
    datasetUri: `s3://${bucket}/datasets/${input.model}/churn.csv`,
    outputUri: `s3://${bucket}/runs/${input.model}/${runId}/`,
    hyperparametersJson: JSON.stringify(input.training.hyperparameters),
    excludeCsv: input.training.exclude.join(','),
    holdoutFraction: String(input.training.holdoutFraction),
    startedAt: '2030-01-01T00:00:00.000Z',
  };
}

/** The run record PrepareRun writes. */
export async function putRun(world: HandlerWorld, run: RunInfo, input: PipelineState = pipelineState()) {
  await world.registry.runs.putRun({
    model: input.model,
    runId: run.runId,
    stage: input.stage,
    status: 'training',
    trigger: input.trigger,
    requestedBy: input.requestedBy,
    reason: input.reason,
    datasetUri: run.datasetUri,
    hyperparameters: input.training.hyperparameters,
    startedAt: run.startedAt,
  });
}

/** A run PrepareRun recorded as trial `trial` of sweep `sweepId`, in `status`. */
export async function putTrialRun(
  world: HandlerWorld,
  trial: { sweepId: string; trial: number; runId: string; status: RunStatus } & Partial<RunRecord>,
) {
  const { sweepId, trial: index, ...rest } = trial;
  await world.registry.runs.putRun({
    model: MODEL,
    stage: 'staging',
    trigger: 'manual',
    requestedBy: REQUESTOR,
    reason: 'sweep',
    datasetUri: `s3://${world.bucket}/datasets/${MODEL}/churn.csv`,
    hyperparameters: {},
    startedAt: '2030-01-01T00:00:00.000Z',
    sweep: { id: sweepId, trial: index },
    ...rest,
  });
}

/** Uploads the dataset every run trains on (once per world). */
export async function uploadDataset(world: HandlerWorld): Promise<void> {
  await world.objects.put(
    { bucket: world.bucket, key: `datasets/${MODEL}/churn.csv` },
    churnCsv({ rows: 1200, seed: 5 }),
    'text/csv',
  );
}

/** Runs the reference trainer for a run (what the Train state's Batch job does). */
export async function train(
  world: HandlerWorld,
  run: RunInfo,
  input = pipelineState(),
): Promise<TrainingSummary> {
  return runTraining(
    {
      MLCYCLE_MODEL: input.model,
      MLCYCLE_RUN_ID: run.runId,
      MLCYCLE_DATASET_URI: run.datasetUri,
      MLCYCLE_OUTPUT_URI: run.outputUri,
      MLCYCLE_HYPERPARAMETERS: run.hyperparametersJson,
      MLCYCLE_TARGET: input.training.target,
      MLCYCLE_CODE_VERSION: 'c0ffee1',
      MLCYCLE_EXCLUDE: run.excludeCsv,
      MLCYCLE_HOLDOUT_FRACTION: Number(run.holdoutFraction),
    },
    { s3: world.s3.local.client },
  );
}

/** `$.evaluation` for a trained run, with chosen metrics. */
export function evaluationOf(
  run: RunInfo,
  summary: TrainingSummary,
  metrics: Metrics = METRICS,
): EvaluationResult {
  return {
    metrics,
    reportedMetrics: {},
    holdoutRows: summary.holdoutRows,
    artifact: { uri: summary.artifactUri, sha256: summary.sha256 },
    modelCardUri: `${run.outputUri}model-card.json`,
    evaluationUri: `${run.outputUri}evaluation.json`,
  };
}

/** `$.train`: what batch-job-ended completes the Train state with. */
export const trainResult = (runId: string) => ({
  jobId: `job-${runId}`,
  jobName: `mlcycle-churn-${runId}`,
  status: 'SUCCEEDED' as const,
});

/** `$.approval`, what SendTaskSuccess carries at quorum. */
export const approvalOf = (requestId: string): ApprovalOutcome => ({
  requestId,
  approvedBy: [{ approver: 'a@studio.test', comment: 'fine', decidedAt: '2030-01-01T01:00:00.000Z' }],
  completedAt: '2030-01-01T01:00:00.000Z',
});

/** A gate outcome that passed, as the Gate state writes it. */
export const passedGate = (servingVersion: string | null = null): GateOutcome => ({
  passed: true,
  approvalRequired: true,
  servingVersion,
  results: [
    {
      metric: 'auc',
      kind: 'absolute',
      operator: '>=',
      threshold: 0.7,
      value: METRICS.auc,
      required: true,
      passed: true,
      detail: 'auc 0.81 meets >= 0.7',
    },
  ],
});

/** The state after each Task, as the ASL accumulates it (execution input + ResultPaths). */
export function lifecycleState(parts: {
  input?: PipelineState;
  run: RunInfo;
  evaluation?: EvaluationResult;
  registration?: Registration;
  gate?: GateOutcome;
  approval?: ApprovalOutcome;
}) {
  return {
    ...(parts.input ?? pipelineState()),
    run: parts.run,
    train: trainResult(parts.run.runId),
    ...(parts.evaluation ? { evaluation: parts.evaluation } : {}),
    ...(parts.registration ? { registration: parts.registration } : {}),
    ...(parts.gate ? { gate: parts.gate } : {}),
    ...(parts.approval ? { approval: parts.approval } : {}),
  };
}

/** Lineage for a version registered straight in the store (no trainer needed). */
export function lineageFor(bucket: string, runId: string, over: Partial<Lineage> = {}): Lineage {
  return {
    parentVersion: null,
    datasetUri: `s3://${bucket}/datasets/${MODEL}/churn.csv`,
    datasetSha256: 'd'.repeat(64),
    codeVersion: 'c0ffee1',
    runId,
    hyperparameters: { epochs: 6 },
    framework: 'mlcycle-logreg@1.0.0',
    artifactUri: `s3://${bucket}/runs/${MODEL}/${runId}/model.json`,
    artifactSha256: 'b'.repeat(64),
    author: REQUESTOR,
    modelCardUri: `s3://${bucket}/runs/${MODEL}/${runId}/model-card.json`,
    ...over,
  };
}

/** Registers a trained run's version straight in the store, as the Register state would. */
export async function registerTrained(
  world: HandlerWorld,
  run: RunInfo,
  summary: TrainingSummary,
  metrics: Metrics = METRICS,
  model = MODEL,
): Promise<VersionRecord> {
  return world.registry.versions.registerVersion({
    model,
    bump: 'minor',
    metrics,
    lineage: lineageFor(world.bucket, run.runId, {
      artifactUri: summary.artifactUri,
      artifactSha256: summary.sha256,
      datasetSha256: summary.datasetSha256,
    }),
  });
}

/**
 * Records, through the approval store, that a Deploy state's promotion was approved by the stage's
 * quorum in the fixture config (a@ for staging; a@ and b@ for production), as the Approve state
 * would have: a request of that execution, completed `approved`. Returns the state with its
 * `$.approval`.
 */
export async function approvedState<
  S extends {
    model: string;
    stage: string;
    execution: { arn: string };
    registration?: Registration;
    requestedBy: string;
  },
>(
  world: HandlerWorld,
  state: S,
  requestId = `req-${state.stage}-${state.registration?.version ?? 'x'}-${Math.random().toString(36).slice(2, 8)}`,
): Promise<S & { approval: ApprovalOutcome }> {
  const store = new ApprovalStore(world.dynamo.doc, world.table);
  const version = state.registration?.version ?? '';
  const approvers =
    state.stage === 'production'
      ? ['a@studio.test', 'b@studio.test', 'c@studio.test']
      : ['a@studio.test', 'b@studio.test'];
  const deciders = state.stage === 'production' ? ['a@studio.test', 'b@studio.test'] : ['a@studio.test'];
  const at = new Date().toISOString();
  const approval = (decidedAt: string) => ({
    ...state,
    approval: {
      requestId,
      approvedBy: deciders.map((approver) => ({ approver, comment: 'fine', decidedAt })),
      completedAt: decidedAt,
    },
  });
  // The same state again (a redelivered Deploy): its request was approved already.
  const existing = await store.get(requestId);
  if (existing?.status === 'approved') return approval(existing.completedAt ?? at);
  await store.create({
    requestId,
    model: state.model,
    version,
    stage: state.stage,
    runId: '',
    requestedBy: state.requestedBy,
    reason: '',
    approvers,
    quorum: deciders.length,
    status: 'pending',
    createdAt: at,
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    reminderSecondsBeforeExpiry: 0,
    taskToken: `token-${requestId}`,
    executionArn: state.execution.arn,
    gate: passedGate(),
    metrics: METRICS,
    serving: null,
  });
  // Through the decision service, as an approver's click would; Step Functions accepts the callback.
  const deps = { store, registry: world.registry, sfn: { send: async () => ({}) } };
  for (const approver of deciders) {
    await recordDecision(deps, { requestId, approver, decision: 'approve', comment: 'fine', via: 'link' });
  }
  return approval(at);
}
