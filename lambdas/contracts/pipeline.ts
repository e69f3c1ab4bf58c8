import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { gateSchema, HIGHER_IS_BETTER, METRIC_NAMES, type MlcycleConfig } from './config-schema.js';

/**
 * The lifecycle state machine's execution input. Built from the config by the CLI, by the
 * EventBridge schedule (at synth time) and by drift-triggered retraining, so handlers never
 * need the whole config: everything a run needs travels with it.
 */
export const pipelineInputSchema = z.object({
  model: z.string().min(1),
  /** Target environment (stage) of this run. */
  stage: z.string().min(1),
  requestedBy: z.string().min(1),
  reason: z.string().default(''),
  trigger: z.enum(['manual', 'schedule', 'drift']).default('manual'),
  /** s3://bucket/key of the dataset; empty means the newest object under datasets/<model>/. */
  dataset: z.string().default(''),
  /** Which part of the semantic version to bump, or an explicit version. */
  bump: z.enum(['major', 'minor', 'patch']).default('minor'),
  version: z.string().default(''),
  /** Promote this existing version instead of training a new one. */
  promote: z.string().default(''),
  training: z.object({
    target: z.string().min(1),
    exclude: z.array(z.string()).default([]),
    hyperparameters: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
    holdoutFraction: z.number().gt(0).lt(0.9),
    timeoutSeconds: z.number().int().min(60),
  }),
  policy: z.object({
    gates: z.array(gateSchema),
    approvers: z.array(z.string()),
    quorum: z.number().int().min(0),
    approvalRequired: z.boolean(),
    approvalTimeoutSeconds: z.number().int().min(1),
    reminderSecondsBeforeExpiry: z.number().int().min(0).default(0),
  }),
});
export type PipelineInput = z.infer<typeof pipelineInputSchema>;

export interface PipelineStartOptions {
  readonly requestedBy: string;
  readonly reason?: string;
  readonly trigger?: PipelineInput['trigger'];
  readonly dataset?: string;
  readonly bump?: PipelineInput['bump'];
  readonly version?: string;
  readonly promote?: string;
  /** Override of the approval wait, mostly for demos and tests. */
  readonly approvalTimeoutSeconds?: number;
}

export function buildPipelineInput(
  config: MlcycleConfig,
  model: string,
  stage: string,
  options: PipelineStartOptions,
): PipelineInput {
  const modelConfig = config.models[model];
  if (!modelConfig) {
    throw new ValidationError(
      `unknown model "${model}"; the config defines: ${Object.keys(config.models).join(', ')}`,
    );
  }
  const env = config.environments[stage];
  if (!env) {
    throw new ValidationError(
      `unknown stage "${stage}"; the config defines: ${Object.keys(config.environments).join(', ')}`,
    );
  }
  const timeout = options.approvalTimeoutSeconds ?? Math.round(env.approvalTimeoutHours * 3600);
  return pipelineInputSchema.parse({
    model,
    stage,
    requestedBy: options.requestedBy,
    reason: options.reason ?? '',
    trigger: options.trigger ?? 'manual',
    dataset: options.dataset ?? '',
    bump: options.bump ?? 'minor',
    version: options.version ?? '',
    promote: options.promote ?? '',
    training: {
      target: modelConfig.target,
      exclude: modelConfig.exclude,
      hyperparameters: modelConfig.training.hyperparameters,
      holdoutFraction: modelConfig.evaluation.holdoutFraction,
      timeoutSeconds: modelConfig.training.timeoutMinutes * 60,
    },
    policy: {
      gates: env.gates,
      approvers: env.approvers,
      quorum: env.quorum,
      approvalRequired: env.quorum > 0,
      approvalTimeoutSeconds: timeout,
      reminderSecondsBeforeExpiry: Math.round((env.reminderHoursBeforeExpiry ?? 0) * 3600),
    },
  });
}

/** Metrics an evaluation reports (all in [0,1] but logLoss, which is ≥ 0). */
export const metricsSchema = z.object(
  Object.fromEntries(METRIC_NAMES.map((m) => [m, z.number()])) as Record<
    (typeof METRIC_NAMES)[number],
    z.ZodNumber
  >,
);
export type Metrics = z.infer<typeof metricsSchema>;
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
});
export type RunInfo = z.infer<typeof runInfoSchema>;

/** `$.evaluation`, written by the Evaluate state. */
export const evaluationResultSchema = z.object({
  metrics: metricsSchema,
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
