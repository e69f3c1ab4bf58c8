import { z } from 'zod';
import { principalsOverlap } from '../domain/identity/principal.js';
import {
  EXECUTION_TIMEOUT_SECONDS,
  executionBudget,
  LAMBDA_STEPS_ALLOWANCE_SECONDS,
  type TrainingBudgetInput,
  trainTaskTimeoutSeconds,
} from './budgets.js';

/**
 * The schema of mlcycle.config.yaml. Validated at synth time (bin/app.ts), at CLI start-up
 * and by the local runtime; the errors name the key path and the bad value.
 */

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be lowercase letters, digits and dashes, starting with a letter');

const email = z.string().regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');

const domain = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i,
    'must be a DNS domain such as studio.example.com',
  );

/**
 * Arm (Graviton) instance families: `a1`, or a `g` among the letters after the generation
 * (c7g, m6gd, g5g, im4gn, x2gd); x86 GPU families (g4dn, g5, g6e, p5) have none.
 */
const ARM_FAMILY = /^(a1|[a-z]+\d+[a-z-]*g[a-z-]*)$/;

export const METRIC_NAMES = ['auc', 'accuracy', 'precision', 'recall', 'f1', 'logLoss'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
/** Direction of "better" per metric; relative gates use it. */
export const HIGHER_IS_BETTER: Record<MetricName, boolean> = {
  auc: true,
  accuracy: true,
  precision: true,
  recall: true,
  f1: true,
  logLoss: false,
};

export const GATE_OPERATORS = ['<', '<=', '>', '>=', '=='] as const;

const absoluteGate = z.strictObject({
  metric: z.enum(METRIC_NAMES),
  operator: z.enum(GATE_OPERATORS),
  threshold: z.number().finite(),
  /** An advisory gate is reported but does not block. @default true */
  required: z.boolean().default(true),
});

const relativeGate = z.strictObject({
  metric: z.enum(METRIC_NAMES),
  /** The candidate may be worse than the version serving this stage by at most this much. */
  noWorseThanServingBy: z.number().min(0),
  required: z.boolean().default(true),
});

export const gateSchema = z.union([absoluteGate, relativeGate]);
export type GateConfig = z.infer<typeof gateSchema>;

const hyperparameterValue = z.union([z.number(), z.string(), z.boolean()]);

const trainingSchema = z.strictObject({
  /** Folder with the trainer's Dockerfile, built by ContainerImage.fromAsset. */
  image: z.string().default('containers/trainer'),
  command: z.array(z.string()).min(1).default(['node', '/app/trainer.mjs']),
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

const modelSchema = z.strictObject({
  description: z.string().default(''),
  /** Binary target column in the dataset. */
  target: z.string().min(1),
  /** Columns the model must not see (ids, timestamps). */
  exclude: z.array(z.string()).default([]),
  training: trainingSchema.prefault({}),
  evaluation: z
    .strictObject({
      holdoutFraction: z.number().gt(0).lt(0.9).default(0.2),
      primaryMetric: z.enum(METRIC_NAMES).default('auc'),
    })
    .prefault({}),
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

const environmentSchema = z.strictObject({
  approvers: z.array(email).default([]),
  /** Approvals needed (M of N). 0 means no human approval for this environment. */
  quorum: z.number().int().min(0).default(1),
  approvalTimeoutHours: z
    .number()
    .gt(0)
    .max(24 * 365)
    .default(72),
  /** Reminder emails this many hours before expiry (omit for none). */
  reminderHoursBeforeExpiry: z.number().gt(0).optional(),
  gates: z.array(gateSchema).default([]),
  /**
   * Who may roll this stage back (to a version that served it before). Rolling back skips the
   * gates and approvals of a promotion, so it is a privilege of its own.
   * @default the environment's approvers
   */
  rollbackBy: z.array(email).optional(),
});

const severityThresholds = z
  .strictObject({
    low: z.number().gt(0).default(0.1),
    medium: z.number().gt(0).default(0.2),
    high: z.number().gt(0).default(0.3),
    critical: z.number().gt(0).default(0.5),
  })
  .refine((t) => t.low < t.medium && t.medium < t.high && t.high < t.critical, {
    message: 'must increase: low < medium < high < critical',
  });

export const monitoringSchema = z.strictObject({
  thresholds: severityThresholds.prefault({}),
  /** Below this many rows in a batch (or the baseline) a feature's result is "insufficient data". */
  minSampleSize: z.number().int().min(1).default(200),
  /** Distinct values kept per categorical feature before the rest go to "other". */
  categoricalCap: z.number().int().min(2).max(10_000).default(200),
  /** Pin a feature's kind per model instead of inferring it from the baseline. */
  schema: z.record(z.string(), z.record(z.string(), z.enum(['numeric', 'categorical']))).default({}),
  alerts: z
    .strictObject({
      minSeverity: z.enum(['low', 'medium', 'high', 'critical']).default('high'),
      email: z.array(email).default([]),
      slackWebhookUrl: z.url().optional(),
    })
    .prefault({}),
  retrainOnCritical: z
    .strictObject({
      enabled: z.boolean().default(false),
      cooldownHours: z.number().min(0).default(24),
    })
    .prefault({}),
  /**
   * Reserved concurrency of the baseline and drift functions: a burst of uploads runs at most
   * this many 3 GB, 15-minute functions at once (the rest wait in Lambda's async queue, retried
   * for up to 6 hours) and cannot starve the approval and pipeline functions. `false` reserves
   * nothing: needed on accounts whose Lambda concurrency quota is 10 (new accounts), where AWS
   * refuses any reservation (`mlcycle doctor --aws` checks it).
   */
  reservedConcurrency: z
    .union([
      z.literal(false),
      z.strictObject({
        baseline: z.number().int().min(1).max(1000).default(2),
        drift: z.number().int().min(1).max(1000).default(5),
      }),
    ])
    .default({ baseline: 2, drift: 5 }),
});
export type MonitoringConfig = z.infer<typeof monitoringSchema>;

export const archivalSchema = z.strictObject({
  /** Versions kept per model beyond whatever is serving or a rollback target. */
  keepLastVersions: z.number().int().min(1).default(5),
  transitionToInfrequentAccessDays: z.number().int().min(30).default(30),
  transitionToGlacierDays: z.number().int().min(1).default(90),
  expireNoncurrentAfterDays: z.number().int().min(1).default(365),
  largeObjectThresholdMb: z.number().min(1).default(100),
  /** Report what would be deleted without deleting. */
  dryRun: z.boolean().default(false),
});
export type ArchivalConfig = z.infer<typeof archivalSchema>;

/**
 * An AWS principal as API Gateway's IAM authorizer reports it: an IAM user, an IAM role (any
 * session of it), or one assumed-role session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`,
 * e.g. an IAM Identity Center user whose session name is their user name).
 */
const principalArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:(iam::\d{12}:(user|role)\/[\w+=,.@/-]+|sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/,
    'must be an IAM user or role ARN, or an STS assumed-role session ARN',
  );

const configShape = z.strictObject({
  /** Prefix of resource names (stack name, table, topic). */
  project: name.default('mlcycle'),
  notifications: z
    .strictObject({
      /** The address approval emails come from. */
      sender: email.default('mlcycle@example.com'),
      /**
       * Send through an SES domain identity with Easy DKIM (the DNS records are stack outputs)
       * instead of an address identity: mail then passes DMARC and stays out of spam. The
       * sender must be an address at this domain or below it.
       * @default - an address identity for `sender` (fine for trials)
       */
      senderDomain: domain.optional(),
    })
    .prefault({}),
  models: z.record(name, modelSchema).refine((m) => Object.keys(m).length > 0, {
    message: 'must define at least one model',
  }),
  environments: z.record(name, environmentSchema).refine((e) => Object.keys(e).length > 0, {
    message: 'must define at least one environment',
  }),
  batch: batchSchema.prefault({}),
  /**
   * Who a person is on AWS: each person (the address used in approvers and rollbackBy) and the
   * AWS principals that act as them. With `--aws`, the actor of every command is the caller's
   * authenticated principal mapped through this table; an unmapped principal may do nothing
   * that needs a person. Locally, `--as` names the actor instead (a local convenience).
   */
  identities: z.record(email, z.array(principalArn).min(1)).default({}),
  monitoring: monitoringSchema.prefault({}),
  archival: archivalSchema.prefault({}),
});

export const configSchema = configShape.superRefine((cfg, ctx) => {
  for (const [envName, env] of Object.entries(cfg.environments)) {
    if (env.quorum > env.approvers.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['environments', envName, 'quorum'],
        input: env.quorum,
        message: `needs ${env.quorum} approvals but only ${env.approvers.length} approvers are listed`,
      });
    }
    if (new Set(env.approvers).size !== env.approvers.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['environments', envName, 'approvers'],
        input: env.approvers,
        message: 'lists an approver twice',
      });
    }
  }
  // A caller matching principals of two people would act as whichever is listed first.
  const listed: { person: string; principal: string }[] = [];
  for (const [person, principals] of Object.entries(cfg.identities)) {
    for (const principal of principals) {
      const other = listed.find((l) => l.person !== person && principalsOverlap(l.principal, principal));
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: ['identities', person],
          input: principal,
          message:
            other.principal === principal
              ? `maps a principal that ${other.person} already maps: one principal is one person`
              : `overlaps ${other.principal} of ${other.person} (a role covers all its sessions; a role's name ignores path and case): one principal is one person`,
        });
      }
      listed.push({ person, principal });
    }
  }
  for (const [modelName, model] of Object.entries(cfg.models)) {
    if (!(model.schedule.stage in cfg.environments)) {
      ctx.addIssue({
        code: 'custom',
        path: ['models', modelName, 'schedule', 'stage'],
        input: model.schedule.stage,
        message: `is not an environment (known: ${Object.keys(cfg.environments).join(', ')})`,
      });
    }
  }
  for (const [modelName, model] of Object.entries(cfg.models)) {
    if (model.training.maxSpotPricePercent !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['models', modelName, 'training', 'maxSpotPricePercent'],
        input: model.training.maxSpotPricePercent,
        message:
          'is no longer supported: a Spot bid cap keeps price-capacity-optimized Spot out of pools it would ' +
          'use (AWS advises leaving it unset); remove the key (Spot never costs more than On-Demand)',
      });
    }
  }
  const sender = cfg.notifications.sender.toLowerCase();
  const senderDomain = cfg.notifications.senderDomain?.toLowerCase();
  if (senderDomain && !(sender.endsWith(`@${senderDomain}`) || sender.endsWith(`.${senderDomain}`))) {
    ctx.addIssue({
      code: 'custom',
      path: ['notifications', 'senderDomain'],
      input: cfg.notifications.senderDomain,
      message: `does not contain the sender ${cfg.notifications.sender}: SES sends only from addresses of a verified domain`,
    });
  }
  checkExecutionBudgets(cfg, ctx);
  if (cfg.archival.transitionToGlacierDays <= cfg.archival.transitionToInfrequentAccessDays) {
    ctx.addIssue({
      code: 'custom',
      path: ['archival', 'transitionToGlacierDays'],
      input: cfg.archival.transitionToGlacierDays,
      message: 'must be later than transitionToInfrequentAccessDays',
    });
  }
});

export type MlcycleConfig = z.infer<typeof configSchema>;
export type ModelConfig = MlcycleConfig['models'][string];
export type EnvironmentConfig = MlcycleConfig['environments'][string];

/** The clocks of one model's Train task (lambdas/contracts/budgets.ts). */
export function trainingBudget(batch: BatchConfig, training: ModelConfig['training']): TrainingBudgetInput {
  return {
    attemptSeconds: training.timeoutMinutes * 60,
    // Batch retries only Spot reclaims (lib/training.ts), so On-Demand has one attempt.
    attempts: training.spot ? training.spotAttempts : 1,
    capacityWaitSeconds: batch.capacityWaitMinutes * 60,
    startupSeconds: batch.startupMinutes * 60,
  };
}

const hours = (seconds: number) => `${Math.floor((seconds / 3600) * 10) / 10}`;

/**
 * Every model may be trained for every environment (`pipeline start --stage`), so each
 * environment's approval wait must fit after the longest Train budget within the execution
 * timeout: past it, Step Functions ends the execution without RecordFailure.
 */
function checkExecutionBudgets(cfg: z.output<typeof configShape>, ctx: z.RefinementCtx): void {
  let longest = { model: '', seconds: 0 };
  for (const [model, m] of Object.entries(cfg.models)) {
    const seconds = trainTaskTimeoutSeconds(trainingBudget(cfg.batch, m.training));
    if (seconds > longest.seconds) longest = { model, seconds };
  }
  for (const [envName, env] of Object.entries(cfg.environments)) {
    const budget = executionBudget({
      trainTaskSeconds: longest.seconds,
      approvalWaitSeconds: Math.round(env.approvalTimeoutHours * 3600),
    });
    if (budget.fits) continue;
    ctx.addIssue({
      code: 'custom',
      path: ['environments', envName, 'approvalTimeoutHours'],
      input: env.approvalTimeoutHours,
      message:
        `with the longest training budget (${longest.model}: ${hours(longest.seconds)} h) and the Lambda steps ` +
        `(${hours(LAMBDA_STEPS_ALLOWANCE_SECONDS)} h), an execution would take ${hours(budget.totalSeconds)} h, past ` +
        `Step Functions' limit of one year per execution (${hours(EXECUTION_TIMEOUT_SECONDS)} h): at most ${hours(budget.maxApprovalWaitSeconds)} h`,
    });
  }
}

/**
 * What the monitoring handlers get in MLCYCLE_MONITORING_CONFIG: the monitoring section plus
 * each model's column roles (target, ids to ignore), so a batch is read the way training read it.
 */
export const monitoringRuntimeSchema = monitoringSchema.omit({ reservedConcurrency: true }).extend({
  models: z.record(z.string(), z.object({ target: z.string(), exclude: z.array(z.string()) })),
});
export type MonitoringRuntimeConfig = z.infer<typeof monitoringRuntimeSchema>;

export function monitoringRuntimeConfig(config: MlcycleConfig): MonitoringRuntimeConfig {
  // The concurrency caps are the stack's business, not the handlers': they stay out of the env.
  const { reservedConcurrency: _caps, ...monitoring } = config.monitoring;
  return {
    ...monitoring,
    models: Object.fromEntries(
      Object.entries(config.models).map(([name, m]) => [name, { target: m.target, exclude: m.exclude }]),
    ),
  };
}
