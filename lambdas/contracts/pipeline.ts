import { z } from 'zod';
import { batchJobResultSchema } from './batch-jobs.js';
import { HIGHER_IS_BETTER, METRIC_NAMES, METRICS_BY_TASK } from './config-schema.js';
import { sweepPlanSchema, sweepSpecSchema, trialRefSchema } from './sweep.js';
import { TASK_TYPES } from './trainer.js';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a model or stage name from the config');

/**
 * What a caller asks for: the lifecycle state machine's execution input, and nothing more. Who
 * asked comes from the start record the start service writes before it starts the execution;
 * the stage's policy (gates, approvers, quorum) and the model's training settings come from the
 * deployed config. Unknown keys are refused, so an input that tries to carry a policy or an
 * identity fails loudly instead of being quietly ignored.
 */
export const pipelineRequestSchema = z.strictObject({
  model: name,
  /** Target environment (stage) of this run or promotion. */
  stage: name,
  reason: z.string().max(500, 'must be at most 500 characters').default(''),
  /** s3://<artifacts bucket>/datasets/<model>/… ; empty means the newest object there. */
  dataset: z.string().default(''),
  /** Which part of the semantic version to bump, or an explicit version. */
  bump: z.enum(['major', 'minor', 'patch']).default('minor'),
  version: z.string().default(''),
  /** Promote this existing version instead of training a new one. */
  promote: z.string().default(''),
  /**
   * Hyperparameter overrides of this run (`--set key=value`), checked by the start service
   * against the trainer schema of the deployed config and stored coerced to the declared types;
   * who set them is the start record's requestedBy.
   */
  overrides: z
    .record(
      z
        .string()
        .regex(
          /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
          'must be a hyperparameter name (letters, digits, underscores)',
        ),
      z.union([z.number(), z.string().max(200, 'must be at most 200 characters'), z.boolean()]),
    )
    .refine((o) => Object.keys(o).length <= 50, 'sets more than 50 hyperparameters')
    .default({}),
  /**
   * Train even when the dataset and hyperparameters are those of the version serving the stage
   * (`--force`); without it PrepareRun skips such a run. Absent means false, and the start
   * record keeps it as asked, so Admit's comparison with the record stays exact.
   */
  force: z.boolean().optional(),
  /**
   * Start a rollout of `promote` instead of moving the stage (`mlcycle rollout start`): the
   * version goes through the stage's gates and approvals as a promotion would, then serves
   * `percent` of players next to the version serving the stage (docs/rollouts.md).
   */
  rollout: z
    .strictObject({
      percent: z
        .number()
        .gt(0, 'must be above 0')
        .max(100, 'must be at most 100')
        .refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-9, 'must have at most 2 decimals'),
    })
    .optional(),
  /**
   * A hyperparameter sweep (`mlcycle sweep start`, contracts/sweep.ts): the run trains one trial
   * per planned setting in a Map and the best goes on to Register. Checked by the start service
   * against the deployed trainer schema and kept in the start record; Admit plans it again.
   */
  sweep: sweepSpecSchema.optional(),
});
export type PipelineRequest = z.infer<typeof pipelineRequestSchema>;

/** A rollout share in percent (≤ 2 decimals) as basis points of the assignment's 10000 buckets. */
export const percentToBasisPoints = (percent: number): number => Math.round(percent * 100);
export type PipelineRequestInput = z.input<typeof pipelineRequestSchema>;

/** Who started an execution: a person, the schedule, the drift monitor, a rollout's guard (a promotion). */
export const TRIGGERS = ['manual', 'schedule', 'drift', 'rollout'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/**
 * Written by the start service (server side, with the caller's authenticated identity) before
 * it starts the execution named here. The first state admits an execution only with its start
 * record: whoever can call StartExecution directly cannot choose who asked.
 */
export const startRecordSchema = z.object({
  executionName: z.string().min(1),
  request: pipelineRequestSchema,
  requestedBy: z.string().min(1),
  trigger: z.enum(TRIGGERS),
  /** The AWS principal that asked (null locally and for schedules). */
  principal: z.string().nullable(),
  startedAt: z.string(),
});
export type StartRecord = z.infer<typeof startRecordSchema>;

/** The model's training settings, from the deployed config (strings where Batch needs them). */
export const trainingSettingsSchema = z.object({
  /** binary | multiclass | regression: the metrics measured (METRICS_BY_TASK) and MLCYCLE_TASK. */
  task: z.enum(TASK_TYPES).default('binary'),
  /** The trainer folder (training.image); its trainer.yaml holds the train and predict argv. */
  trainer: z.string().default('containers/trainer'),
  /** The split PrepareRun makes: '' = by row. */
  splitKey: z.string().default(''),
  validationFraction: z.number().min(0).lt(0.9).default(0),
  seed: z.number().int().min(0).default(42),
  /** MLCYCLE_USE_GPU: '1' when the job definition allocates a GPU. */
  useGpu: z.enum(['0', '1']).default('0'),
  target: z.string().min(1),
  exclude: z.array(z.string()).default([]),
  hyperparameters: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  holdoutFraction: z.number().gt(0).lt(0.9),
  /** Batch's per-attempt duration (the Train state's `Timeout.AttemptDurationSeconds`). */
  timeoutSeconds: z.number().int().min(60),
  /**
   * The Train task's timeout (its TimeoutSecondsPath): every attempt Batch may make, each after
   * its wait for capacity and start-up (lambdas/contracts/budgets.ts).
   */
  taskTimeoutSeconds: z.number().int().min(60),
  /** A predict job's per-attempt duration (Predict and SmokePredict `Timeout.AttemptDurationSeconds`). */
  predictTimeoutSeconds: z.number().int().min(60),
  /** The Predict and SmokePredict tasks' timeout, counted as the Train task's. */
  predictTaskTimeoutSeconds: z.number().int().min(60),
});
export type TrainingSettings = z.infer<typeof trainingSettingsSchema>;

/**
 * The execution's state once Admit has built it from the start record and the deployed config.
 * Every later state reads only this (plus what earlier states added); nothing in it came from
 * the caller but the request's own fields.
 */
export const pipelineStateSchema = z.object({
  // Later states add their results beside these, so the state is not strict like the request.
  ...pipelineRequestSchema.shape,
  /** A rollout start (null for a run or a promotion): Admit always sets it, so the ASL can pass it on. */
  rollout: z.object({ percent: z.number() }).nullish(),
  /** The recorded `--set` overrides (already applied to training.hyperparameters). */
  overrides: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
  execution: z.object({ arn: z.string().min(1), name: z.string().min(1) }),
  requestedBy: z.string().min(1),
  trigger: z.enum(TRIGGERS),
  training: trainingSettingsSchema,
  /** How long the Approve state waits (its TimeoutSecondsPath), from the stage's policy. */
  approvalWait: z.object({ timeoutSeconds: z.number().int().min(1) }),
  /** A sweep's plan (Admit): the Map's items, its MaxConcurrencyPath and the trials' rules. */
  sweep: sweepPlanSchema.optional(),
  /** Inside a sweep's Map: the trial this iteration trains (PrepareRun records the run as it). */
  trial: trialRefSchema.optional(),
});
export type PipelineState = z.infer<typeof pipelineStateSchema>;

/**
 * Metrics an evaluation measured: the task's family (METRICS_BY_TASK) — binary auc, logLoss,
 * accuracy, precision, recall, f1; multiclass accuracy, macroF1, logLoss; regression rmse, mae, r2.
 */
export const metricsSchema = z.object(
  Object.fromEntries(METRIC_NAMES.map((m) => [m, z.number().optional()])) as Record<
    (typeof METRIC_NAMES)[number],
    z.ZodOptional<z.ZodNumber>
  >,
);
export type Metrics = z.infer<typeof metricsSchema>;
/**
 * Every metric of at least one task: what a measured holdout evaluation holds. A set that
 * falls short is refused per missing metric of the task it comes closest to.
 */
export const measuredMetricsSchema = metricsSchema.superRefine((m, ctx) => {
  const missing = TASK_TYPES.map((task) => ({
    task,
    names: METRICS_BY_TASK[task].filter((name) => typeof m[name] !== 'number'),
  })).sort((a, b) => a.names.length - b.names.length)[0];
  if (!missing?.names.length) return;
  for (const name of missing.names) {
    ctx.addIssue({
      code: 'custom',
      path: [name],
      message: `was not measured; a ${missing.task} evaluation has ${METRICS_BY_TASK[missing.task].join(', ')}`,
    });
  }
});
export { HIGHER_IS_BETTER };

/** `$.run`, written by the PrepareRun state. */
export const runInfoSchema = z.object({
  runId: z.string(),
  datasetUri: z.string(),
  /** s3://bucket/runs/<model>/<runId>/ — the trainer writes everything under it. */
  outputUri: z.string(),
  hyperparametersJson: z.string(),
  /** Comma-separated columns the trainer drops (container env values are strings). */
  excludeCsv: z.string(),
  holdoutFraction: z.string(),
  startedAt: z.string(),
  /**
   * s3://bucket/runs/<model>/<runId>/ of a contract run (MLCYCLE_RUN_URI of the Train and Predict
   * jobs; the stager reads input/ and writes output/ under it: RUN_INPUTS). Absent for a promotion.
   */
  runUri: z.string().optional(),
  /** Rows in input/holdout-features.csv (and evaluation/holdout-labels.csv). */
  holdoutRows: z.number().int().min(0).optional(),
  /** MLCYCLE_VALIDATION of the train job: the validation split on the job's volume, or '' without one. */
  validationPath: z.string().optional(),
});
export type RunInfo = z.infer<typeof runInfoSchema>;

/** `$.evaluation`, written by the Evaluate state. */
export const evaluationResultSchema = z.object({
  /** Measured by the platform on the holdout (partial for a version registered from outside). */
  metrics: metricsSchema.partial(),
  /** What the registrant or trainer said (any names), kept beside the measured ones; gated only as reported:<name>. */
  reportedMetrics: z.record(z.string(), z.number()).default({}),
  holdoutRows: z.number().int(),
  artifact: z.object({ uri: z.string(), sha256: z.string() }),
  modelCardUri: z.string(),
  evaluationUri: z.string(),
});
export type EvaluationResult = z.infer<typeof evaluationResultSchema>;

/** `$.registration`, written by the Register state. */
export const registrationSchema = z.object({ version: z.string(), parentVersion: z.string().nullable() });
export type Registration = z.infer<typeof registrationSchema>;

export const gateResultSchema = z.object({
  metric: z.string(),
  kind: z.enum(['absolute', 'relative']),
  operator: z.string(),
  threshold: z.number(),
  value: z.number().nullable(),
  servingValue: z.number().nullable().optional(),
  required: z.boolean(),
  passed: z.boolean(),
  detail: z.string(),
});
export type GateResult = z.infer<typeof gateResultSchema>;

/** `$.gate`, written by the Gate state. */
export const gateOutcomeSchema = z.object({
  passed: z.boolean(),
  approvalRequired: z.boolean(),
  servingVersion: z.string().nullable(),
  results: z.array(gateResultSchema),
});
export type GateOutcome = z.infer<typeof gateOutcomeSchema>;

/** `$.approval`: the output SendTaskSuccess carries when quorum is reached. */
export const approvalOutcomeSchema = z.object({
  requestId: z.string(),
  approvedBy: z.array(z.object({ approver: z.string(), comment: z.string(), decidedAt: z.string() })),
  completedAt: z.string(),
});
export type ApprovalOutcome = z.infer<typeof approvalOutcomeSchema>;

/**
 * The lifecycle state as it grows through the states (each adds its ResultPath). Handlers parse
 * just the part they need, so a missing predecessor output is a clear validation error.
 */
export const preparedStateSchema = pipelineStateSchema.extend({
  run: runInfoSchema,
  /** `$.train`: the Train job, as batch-job-ended completed it (absent for a promotion). */
  train: batchJobResultSchema.optional(),
});
export const evaluatedStateSchema = preparedStateSchema.extend({ evaluation: evaluationResultSchema });
export const registeredStateSchema = evaluatedStateSchema.extend({ registration: registrationSchema });
export const gatedStateSchema = registeredStateSchema.extend({ gate: gateOutcomeSchema });
export const approvedStateSchema = gatedStateSchema.extend({ approval: approvalOutcomeSchema.optional() });
/** Register's input: a trained run is registered with every metric measured on its holdout. */
export const registerStateSchema = evaluatedStateSchema.superRefine((state, ctx) => {
  // Every metric of the model's task family (METRICS_BY_TASK), measured on the holdout.
  for (const metric of METRICS_BY_TASK[state.training.task]) {
    if (typeof state.evaluation.metrics[metric] !== 'number') {
      ctx.addIssue({
        code: 'custom',
        path: ['evaluation', 'metrics', metric],
        input: state.evaluation.metrics[metric],
        message: `is required: a trained ${state.training.task} run is registered with every metric measured on its holdout`,
      });
    }
  }
});
/**
 * `$.smoke`, written by PrepareSmoke before Deploy. A contract artifact (model.tar.gz, any
 * framework) is smoke-tested by its own predict entry in a predict job (SmokePredict) on sample
 * rows; any other artifact is loaded and scored by Deploy itself, so no job is needed.
 */
export const smokePlanSchema = z.discriminatedUnion('required', [
  z.object({ required: z.literal(false), reason: z.string() }),
  z.object({
    required: z.literal(true),
    /** The run that trained the version (MLCYCLE_RUN_URI of the predict job). */
    runUri: z.string(),
    /** The sample rows (features only) PrepareSmoke wrote under the run's smoke/<execution>/. */
    inputUri: z.string(),
    predictionsUri: z.string(),
    /** The artifact and the sha256 the registry recorded: the stager refuses other bytes. */
    artifactUri: z.string(),
    sha256: z.string(),
    rows: z.number().int().min(1),
    /** holdout: rows the evaluation scored too, so Deploy also checks the answers agree. */
    source: z.enum(['holdout', 'dataset']),
    sourceUri: z.string(),
  }),
]);
export type SmokePlan = z.infer<typeof smokePlanSchema>;

/** Deploy's input: `promotionId` is set by LoadCandidate, one per promotion execution. */
export const deployStateSchema = approvedStateSchema.extend({
  promotionId: z.string().min(1).optional(),
  smoke: smokePlanSchema.optional(),
});

export type PreparedState = z.infer<typeof preparedStateSchema>;
export type EvaluatedState = z.infer<typeof evaluatedStateSchema>;
export type RegisterState = z.infer<typeof registerStateSchema>;
export type RegisteredState = z.infer<typeof registeredStateSchema>;
export type GatedState = z.infer<typeof gatedStateSchema>;
export type ApprovedState = z.infer<typeof approvedStateSchema>;
export type DeployState = z.infer<typeof deployStateSchema>;

/** The Approve state's Payload (see the ASL). */
export const approvalPayloadSchema = z.object({
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
  model: z.string().min(1),
  stage: z.string().min(1),
  version: z.string().min(1),
  /** Empty for a version registered outside a pipeline (`mlcycle models register`). */
  runId: z.string(),
  requestedBy: z.string().min(1),
  reason: z.string().default(''),
  gate: gateOutcomeSchema,
  metrics: metricsSchema.partial(),
  modelCardUri: z.string().optional(),
  /**
   * The Approve state's own timeout (its TimeoutSecondsPath), computed by Admit from the same
   * deployed policy the Approve task reads; passed so the embedded default's engine can enforce it.
   */
  approvalWait: z.object({ timeoutSeconds: z.number().int().min(1) }).optional(),
  /** The approval is for a rollout start at this share, not a promotion (the state's `rollout`). */
  rollout: z.object({ percent: z.number() }).nullable().optional(),
});
export type ApprovalPayload = z.infer<typeof approvalPayloadSchema>;

/** What a failure path hands to RecordFailure. */
export const FAILURE_KINDS = [
  /** The first states (PrepareRun, LoadCandidate): no run and no registration exist. */
  'preparation',
  'training',
  'evaluation',
  'registration',
  'gate',
  'rejected',
  'timeout',
  'approval',
  'deploy',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** The execution's clocks, for the ASL check at synth (lib/ imports only contracts). */
export { EXECUTION_TIMEOUT_SECONDS, LAMBDA_STEPS_ALLOWANCE_SECONDS } from './budgets.js';
