import { z } from 'zod';
import type { TrainingBudgetInput } from './budgets.js';
import { gateSchema, METRIC_NAMES } from './config-gates.js';
import { performanceThresholdsSchema } from './config-operations.js';
import { ARM_FAMILY, name } from './config-primitives.js';
import { rolloutConfigSchema } from './config-rollout.js';
import { sweepSpecSchema } from './sweep.js';
import { TASK_TYPES } from './trainer.js';

const hyperparameterValue = z.union([z.number(), z.string(), z.boolean()]);

export const trainingSchema = z.strictObject({
  /**
   * The trainer folder: its trainer.yaml (docs/trainer-contract.md) gives the train and predict
   * argv, its Dockerfile the Batch image (ContainerImage.fromAsset).
   */
  image: z.string().default('containers/trainer'),
  hyperparameters: z.record(z.string(), hyperparameterValue).default({}),
  resources: z
    .strictObject({
      gpus: z.number().int().min(0).max(8).default(1),
      vcpus: z.number().int().min(1).max(96).default(4),
      memoryMiB: z.number().int().min(512).default(15_000),
    })
    .default({ gpus: 1, vcpus: 4, memoryMiB: 15_000 }),
  instanceTypes: z
    .array(
      z
        .string()
        .regex(/^[a-z0-9]+\.[a-z0-9]+$/, 'must be an EC2 instance type such as g5.xlarge')
        .refine((t) => !ARM_FAMILY.test(t.split('.')[0] ?? ''), {
          message:
            'is an Arm (Graviton) instance type, and the trainer image is built for linux/amd64: ' +
            'choose an x86 GPU type such as g5.xlarge or g4dn.xlarge',
        }),
    )
    .min(1)
    .default(['g5.xlarge', 'g4dn.xlarge']),
  spot: z.boolean().default(true),
  /**
   * Attempts Batch makes when Spot reclaims the instance (1 = no retry); a trainer that fails
   * on its own is never retried. Ignored when `spot` is false. @default 3
   */
  spotAttempts: z.number().int().min(1).max(10).default(3),
  /**
   * No longer supported: a Spot bid below On-Demand keeps price-capacity-optimized allocation
   * out of the pools it would pick, and AWS advises leaving it unset. Kept in the schema only to
   * say so by name (superRefine below); without a bid Spot never costs more than On-Demand.
   */
  maxSpotPricePercent: z.unknown().optional(),
  /** Batch's per-attempt timeout (the run itself, not the wait for capacity). */
  timeoutMinutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 7)
    .default(120),
});

export const modelSchema = z.strictObject({
  description: z.string().default(''),
  /** What the model predicts: decides the metrics the platform measures and the gates allowed. */
  task: z.enum(TASK_TYPES).default('binary'),
  /** Target column in the dataset (0/1 for binary, labels for multiclass, numbers for regression). */
  target: z.string().min(1),
  /** Columns the model must not see (ids, timestamps). */
  exclude: z.array(z.string()).default([]),
  training: trainingSchema.prefault({}),
  evaluation: z
    .strictObject({
      holdoutFraction: z.number().gt(0).lt(0.9).default(0.2),
      /** Share of the rows (after the holdout) given to the trainer as MLCYCLE_VALIDATION; 0 = none. */
      validationFraction: z.number().min(0).lt(0.9).default(0),
      /** Seed of the split: the same dataset and seed give the same split. */
      seed: z.number().int().min(0).max(4_294_967_295).default(42),
      /** Column whose rows stay on one side of the split (a player's rows), to avoid leakage. */
      splitKey: z.string().min(1).optional(),
      /** Defaults to the task's first metric (auc, accuracy, rmse). */
      primaryMetric: z.enum(METRIC_NAMES).optional(),
    })
    .prefault({}),
  /**
   * Per-stage gates of this model, replacing the environment's gates for it (a regression model
   * cannot be gated on AUC): `gates: { staging: [{ metric: rmse, operator: "<=", threshold: 40 }] }`.
   */
  gates: z.record(name, z.array(gateSchema)).default({}),
  schedule: z
    .strictObject({
      /** EventBridge schedule expression for the weekly retrain. */
      retrain: z
        .string()
        .regex(/^(cron|rate)\(.+\)$/, 'must be an EventBridge expression like cron(0 3 ? * MON *)')
        .default('cron(0 3 ? * MON *)'),
      /** Environment that scheduled retrains target. */
      stage: name.default('staging'),
      enabled: z.boolean().default(true),
    })
    .prefault({}),
  /** Live monitoring of this model: performance thresholds that alert on their own. */
  monitoring: z
    .strictObject({
      /** e.g. `{ maxDrop: { auc: 0.05, accuracy: 0.05 }, maxLatencyP95Ms: 250 }` (config-operations.ts). */
      performance: performanceThresholdsSchema.prefault({}),
    })
    .prefault({}),
  /** Rollouts of this model: the decision policy and the batch columns (config-rollout.ts). */
  rollout: rolloutConfigSchema.prefault({}),
  /**
   * Named hyperparameter sweeps of this model (contracts/sweep.ts, docs/sweeps.md):
   * `mlcycle sweep start <model> <name>` starts one as a spec file would.
   */
  sweeps: z.record(name, sweepSpecSchema).optional(),
});

/**
 * The AWS Batch infrastructure all models share (one queue, one compute environment): how long a
 * job may wait for capacity, what the Train budget allows for start-up, and the VPC's endpoints.
 */
export const batchSchema = z.strictObject({
  /**
   * A job that waits RUNNABLE this long for capacity (no Spot capacity, a vCPU quota of 0, no
   * instance type that fits) is cancelled by the queue with the reason, so the run fails and
   * says why instead of waiting for the Train timeout. Batch accepts 10 minutes to 24 hours.
   */
  capacityWaitMinutes: z.number().int().min(10).max(1440).default(60),
  /** Instance boot and trainer image pull per attempt, counted in the Train task's budget. */
  startupMinutes: z.number().int().min(1).max(120).default(15),
  /**
   * Interface endpoints for ECR, ECS and CloudWatch Logs in the training VPC, so instances reach
   * them without the NAT gateway. Off by default: image layers, datasets and artifacts already
   * bypass NAT through the free S3 gateway endpoint, and each interface endpoint costs about
   * $0.01/h per AZ (docs/deploy.md).
   */
  vpcEndpoints: z.boolean().default(false),
});
export type BatchConfig = z.infer<typeof batchSchema>;

/**
 * A predict job's per-attempt timeout: scoring a holdout or a smoke sample takes a fraction of
 * training, so the training timeout capped at an hour.
 */
export function predictAttemptSeconds(training: z.infer<typeof trainingSchema>): number {
  return Math.min(training.timeoutMinutes, 60) * 60;
}

/** The clocks of one model's Predict and SmokePredict tasks: the Train task's, with the predict attempt. */
export function predictBudget(
  batch: BatchConfig,
  training: z.infer<typeof trainingSchema>,
): TrainingBudgetInput {
  return { ...trainingBudget(batch, training), attemptSeconds: predictAttemptSeconds(training) };
}

/** The clocks of one model's Train task (lambdas/contracts/budgets.ts). */
export function trainingBudget(
  batch: BatchConfig,
  training: z.infer<typeof trainingSchema>,
): TrainingBudgetInput {
  return {
    attemptSeconds: training.timeoutMinutes * 60,
    // Batch retries only Spot reclaims (lib/training.ts), so On-Demand has one attempt.
    attempts: training.spot ? training.spotAttempts : 1,
    capacityWaitSeconds: batch.capacityWaitMinutes * 60,
    startupSeconds: batch.startupMinutes * 60,
  };
}
