import { ENV, type EnvName } from './env.js';
import { EXECUTION_ENDED_STATUSES, type ExecutionFinalStatus } from './execution-events.js';

/**
 * Every Lambda handler: its entry file (relative to the repository root), the environment it
 * requires, and the ASL placeholder of its ARN where the state machine invokes it. The CDK
 * stack builds one NodejsFunction per entry; the local runtime imports the same files.
 */
export interface HandlerContract {
  /** File under lambdas/handlers/, exporting `handler`. */
  readonly entry: string;
  /** Environment variables the handler's schema requires (optional ones listed separately). */
  readonly env: readonly EnvName[];
  readonly optionalEnv?: readonly EnvName[];
  /** `${Placeholder}` in state-machines/lifecycle.asl.json, when a Task invokes it. */
  readonly aslPlaceholder?: string;
  /** Sizing that the construct applies. */
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /**
   * EventBridge schedule expression on which the handler is invoked with a scheduled event: by a
   * rule in the stack, and by the local scheduler while `mlcycle up` runs.
   */
  readonly schedule?: string;
  /**
   * Statuses of the lifecycle's "Step Functions Execution Status Change" events the handler is
   * invoked with: by an EventBridge rule in the stack, and by the local engine when one of its
   * executions ends so.
   */
  readonly onExecutionStatus?: readonly ExecutionFinalStatus[];
  /**
   * Invoked with the "Batch Job State Change" event of every job on the training queue that
   * ends (SUCCEEDED or FAILED): by an EventBridge rule in the stack, and by the local batch
   * runner when one of its jobs ends (contracts/batch-jobs.ts).
   */
  readonly onBatchJobEnded?: boolean;
}

const base = [ENV.table, ENV.bucket] as const;
const mail = [ENV.emailSender] as const;
/** Handlers that apply a policy read it from the deployed config. */
const policy = [ENV.configFile] as const;
/** Control routes: who calls is the authenticated principal (AWS) or the local `--as` name. */
const control = [ENV.configFile, ENV.authMode] as const;
/** Stage changes publish a download URL under the client base URL (the CDN's on AWS). */
const clientDownloads = [ENV.clientBaseUrl] as const;

export const HANDLERS = {
  admit: {
    entry: 'lambdas/handlers/admit.ts',
    env: [ENV.table, ...policy],
    aslPlaceholder: 'AdmitFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 30,
  },
  prepareRun: {
    entry: 'lambdas/handlers/prepare-run.ts',
    env: base,
    aslPlaceholder: 'PrepareRunFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 30,
  },
  checkTrial: {
    entry: 'lambdas/handlers/check-trial.ts',
    env: base,
    aslPlaceholder: 'CheckTrialFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 60,
  },
  watchTrial: {
    entry: 'lambdas/handlers/watch-trial.ts',
    // A trial's training progress (an S3 upload): its early-stopping rule against the sweep's
    // other trials, and TerminateJob on the training queue when the rule says stop.
    env: [...base, ENV.jobQueue],
    memoryMb: 256,
    timeoutSeconds: 60,
  },
  pickBest: {
    entry: 'lambdas/handlers/pick-best.ts',
    env: [ENV.table],
    aslPlaceholder: 'PickBestFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 60,
  },
  loadCandidate: {
    entry: 'lambdas/handlers/load-candidate.ts',
    env: base,
    aslPlaceholder: 'LoadCandidateFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 30,
  },
  evaluate: {
    entry: 'lambdas/handlers/evaluate.ts',
    env: base,
    aslPlaceholder: 'EvaluateFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 300,
  },
  register: {
    entry: 'lambdas/handlers/register.ts',
    env: [...base, ENV.codeVersion],
    aslPlaceholder: 'RegisterFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 30,
  },
  gate: {
    entry: 'lambdas/handlers/gate.ts',
    env: [...base, ...policy],
    aslPlaceholder: 'GateFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 30,
  },
  requestApproval: {
    entry: 'lambdas/handlers/request-approval.ts',
    env: [...base, ...policy, ENV.approvalBaseUrl, ENV.signingSecretArn, ...mail],
    aslPlaceholder: 'RequestApprovalFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 30,
  },
  approvalReminders: {
    entry: 'lambdas/handlers/approval-reminders.ts',
    // No bucket: it reads pending requests and decisions from the table and sends email.
    env: [ENV.table, ENV.approvalBaseUrl, ENV.signingSecretArn, ...mail],
    memoryMb: 256,
    timeoutSeconds: 120,
    // Often enough that a reminder window of an hour or less is not missed; one Query when idle.
    schedule: 'rate(15 minutes)',
  },
  approvalHttp: {
    entry: 'lambdas/handlers/approval-http.ts',
    // the config: how far back the page's "recent drift" looks (monitoring.approvalPage)
    env: [...base, ...policy, ENV.signingSecretArn],
    memoryMb: 256,
    timeoutSeconds: 15,
  },
  batchJobEnded: {
    entry: 'lambdas/handlers/batch-job-ended.ts',
    // Only Step Functions: the job's outcome goes to the task that waits for it.
    env: [],
    onBatchJobEnded: true,
    memoryMb: 256,
    timeoutSeconds: 30,
  },
  prepareSmoke: {
    entry: 'lambdas/handlers/prepare-smoke.ts',
    env: base,
    aslPlaceholder: 'PrepareSmokeFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 30,
  },
  deploy: {
    entry: 'lambdas/handlers/deploy.ts',
    env: [...base, ...policy, ...clientDownloads],
    optionalEnv: [ENV.cdnDistributionId],
    aslPlaceholder: 'DeployFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 120,
  },
  recordFailure: {
    entry: 'lambdas/handlers/record-failure.ts',
    env: [...base, ENV.alertTopicArn],
    aslPlaceholder: 'RecordFailureFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 30,
  },
  executionEnded: {
    entry: 'lambdas/handlers/execution-ended.ts',
    // Closes the execution's approval requests, fails its run, stops its Batch jobs and alerts
    // once: the table, the alert topic, the job queue, and (granted in the stack) this state
    // machine's execution history.
    env: [ENV.table, ENV.alertTopicArn, ENV.jobQueue],
    memoryMb: 256,
    timeoutSeconds: 60,
    onExecutionStatus: EXECUTION_ENDED_STATUSES,
  },
  executionSucceeded: {
    entry: 'lambdas/handlers/execution-succeeded.ts',
    // Tells a deploy or a skipped retrain once (notices in the deployed config): the table (its
    // once-per-notice markers), the alert topic, and (granted in the stack) the execution history.
    env: [ENV.table, ENV.alertTopicArn, ...policy, ENV.approvalBaseUrl, ...clientDownloads],
    memoryMb: 256,
    timeoutSeconds: 60,
    onExecutionStatus: ['SUCCEEDED'],
  },
  approvalReconciler: {
    entry: 'lambdas/handlers/approval-reconciler.ts',
    // Redelivers owed approval callbacks and closes requests whose execution ended (through the
    // execution-ended use case, hence the alert topic and the job queue).
    env: [ENV.table, ENV.alertTopicArn, ENV.jobQueue],
    memoryMb: 256,
    timeoutSeconds: 120,
    // The safety net under delivery with retries and the execution-ended event.
    schedule: 'rate(5 minutes)',
  },
  manifestHttp: {
    entry: 'lambdas/handlers/manifest-http.ts',
    env: base,
    memoryMb: 256,
    timeoutSeconds: 10,
  },
  baseline: {
    entry: 'lambdas/handlers/baseline.ts',
    // The alert topic too: a baseline that cannot be processed is alerted on (monitoring-deps).
    env: [...base, ...policy, ENV.alertTopicArn],
    memoryMb: 3008,
    timeoutSeconds: 900,
  },
  drift: {
    entry: 'lambdas/handlers/drift.ts',
    // A rollout's automatic abort republishes the manifest without the rollout block, as an abort does.
    env: [...base, ...policy, ENV.alertTopicArn, ...clientDownloads],
    // The state machine when monitoring.retrainOnCritical is enabled or a rollout policy can
    // promote: drift then starts retrains, or asks for a better canary's promotion.
    optionalEnv: [ENV.stateMachineArn, ENV.cdnDistributionId],
    memoryMb: 3008,
    timeoutSeconds: 900,
  },
  cleanup: {
    entry: 'lambdas/handlers/cleanup.ts',
    env: [...base, ...policy],
    memoryMb: 512,
    timeoutSeconds: 300,
    // The retention policy, daily at 04:00 UTC (after the weekly 03:00 retrains have registered),
    // and for the execution's model whenever a lifecycle execution succeeds (docs/operations.md).
    schedule: 'cron(0 4 * * ? *)',
    onExecutionStatus: ['SUCCEEDED'],
  },
  startHttp: {
    entry: 'lambdas/handlers/start-http.ts',
    env: [...base, ...control, ENV.stateMachineArn],
    memoryMb: 256,
    timeoutSeconds: 15,
  },
  runControlHttp: {
    // `runs cancel` records the run cancelled and stops its execution (the run holds its ARN), or
    // for a sweep trial terminates its jobs on the queue; `sweep stop` cancels a sweep's trials
    // and stops its execution (named by the sweep's id).
    entry: 'lambdas/handlers/run-control-http.ts',
    env: [ENV.table, ...control, ENV.stateMachineArn, ENV.jobQueue],
    memoryMb: 256,
    timeoutSeconds: 15,
  },
  registryHttp: {
    entry: 'lambdas/handlers/registry-http.ts',
    // Rollbacks publish the served artifact and the manifest, as Deploy does, and are noticed
    // on the alert topic (with a link to the model's status under the API's base URL).
    env: [...base, ...control, ...clientDownloads, ENV.alertTopicArn, ENV.approvalBaseUrl],
    optionalEnv: [ENV.cdnDistributionId],
    memoryMb: 512,
    timeoutSeconds: 30,
  },
  rolloutHttp: {
    // Ramps and aborts republish the manifest with (or without) the rollout block, as Deploy does;
    // an abort is noticed on the alert topic, linking the model's status under the API's URL.
    entry: 'lambdas/handlers/rollout-http.ts',
    env: [...base, ...control, ...clientDownloads, ENV.alertTopicArn, ENV.approvalBaseUrl],
    optionalEnv: [ENV.cdnDistributionId],
    memoryMb: 512,
    timeoutSeconds: 30,
  },
  monitoringHttp: {
    // Baseline versions and discarded batches: people's decisions, as the authenticated caller.
    entry: 'lambdas/handlers/monitoring-http.ts',
    env: [...base, ...control],
    memoryMb: 256,
    timeoutSeconds: 30,
  },
  statusHttp: {
    // GET /status/{model}: reads the registry table and the model's drift summary, nothing else.
    entry: 'lambdas/handlers/status-http.ts',
    env: [...base, ...policy],
    memoryMb: 256,
    timeoutSeconds: 15,
  },
  decisionHttp: {
    entry: 'lambdas/handlers/decision-http.ts',
    env: [ENV.table, ...control],
    memoryMb: 256,
    timeoutSeconds: 15,
  },
  scheduledRetrain: {
    entry: 'lambdas/handlers/scheduled-retrain.ts',
    env: [...base, ...policy, ENV.stateMachineArn],
    memoryMb: 256,
    timeoutSeconds: 30,
  },
} as const satisfies Record<string, HandlerContract>;

export type HandlerName = keyof typeof HANDLERS;

/** Placeholders in the ASL that are not Lambda ARNs. */
export const ASL_PLACEHOLDERS = {
  trainingJobQueueArn: 'TrainingJobQueueArn',
  /** Job definitions are named `<prefix><model>` (one per model: each has its own GPU/vCPU/memory). */
  trainingJobDefinitionPrefix: 'TrainingJobDefinitionPrefix',
  /** The predict job definitions, `<prefix><model>`: the same image's predict entry, CPU by default. */
  predictJobDefinitionPrefix: 'PredictJobDefinitionPrefix',
} as const;
