import { z } from 'zod';
import {
  EXECUTION_TIMEOUT_SECONDS,
  executionBudget,
  LAMBDA_STEPS_ALLOWANCE_SECONDS,
  trainTaskTimeoutSeconds,
} from './budgets.js';
import { type GateConfig, gateMetricProblem, gateSchema, METRICS_BY_TASK } from './config-gates.js';
import { batchSchema, modelSchema, predictBudget, trainingBudget } from './config-model.js';
import { noticesSchema } from './config-notices.js';
import { archivalSchema, type MonitoringRuntimeConfig, monitoringSchema } from './config-operations.js';
import { domain, email, name, principalArn } from './config-primitives.js';
import { principalsOverlap } from './principals.js';
import { deployedTrainerSchema } from './trainer.js';

export * from './config-gates.js';
export {
  type BatchConfig,
  batchSchema,
  predictAttemptSeconds,
  predictBudget,
  trainingBudget,
} from './config-model.js';
export * from './config-notices.js';
export * from './config-operations.js';

/**
 * The schema of mlcycle.config.yaml. Validated at synth time (bin/app.ts), at CLI start-up
 * and by the local runtime; the errors name the key path and the bad value. Its sections live
 * beside it: config-model (models, training, Batch), config-gates, config-operations
 * (monitoring, archival), config-primitives (names, addresses, principals).
 */

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
  notices: noticesSchema.prefault({}),
  /**
   * Not written by hand: each model's trainer (its trainer.yaml's name, tasks and hyperparameter
   * schema), added when mlcycle loads the config from disk (local/trainers/config-trainers.ts), so
   * the deployed config lets the start service validate `--set` overrides server side.
   */
  trainers: z.record(name, deployedTrainerSchema).optional(),
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
  for (const modelName of Object.keys(cfg.models)) checkModelGates(cfg, modelName, ctx);
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

/** The gates a model meets to enter a stage: its own for that stage, else the environment's. */
export function effectiveGates(
  cfg: Pick<MlcycleConfig, 'models' | 'environments'>,
  model: string,
  stage: string,
): readonly GateConfig[] {
  return cfg.models[model]?.gates[stage] ?? cfg.environments[stage]?.gates ?? [];
}

/**
 * A model's effective gates may name only metrics of its task family (or reported:<name>), and
 * its own gates only stages that exist; its primary metric must be one the platform measures.
 */
function checkModelGates(cfg: z.infer<typeof configShape>, modelName: string, ctx: z.RefinementCtx): void {
  const model = cfg.models[modelName];
  if (!model) return;
  for (const stage of Object.keys(model.gates)) {
    if (!(stage in cfg.environments)) {
      ctx.addIssue({
        code: 'custom',
        path: ['models', modelName, 'gates', stage],
        input: stage,
        message: `is not an environment (known: ${Object.keys(cfg.environments).join(', ')})`,
      });
    }
  }
  for (const stage of Object.keys(cfg.environments)) {
    const own = model.gates[stage];
    const gates = effectiveGates(cfg, modelName, stage);
    gates.forEach((gate, i) => {
      const problem = gateMetricProblem(model.task, gate.metric);
      if (!problem) return;
      ctx.addIssue({
        code: 'custom',
        path: own
          ? ['models', modelName, 'gates', stage, i, 'metric']
          : ['environments', stage, 'gates', i, 'metric'],
        input: gate.metric,
        message: `${own ? '' : `applies to model ${modelName} (task ${model.task}) but `}${problem}`,
      });
    });
  }
  const primary = model.evaluation.primaryMetric;
  if (primary && gateMetricProblem(model.task, primary)) {
    ctx.addIssue({
      code: 'custom',
      path: ['models', modelName, 'evaluation', 'primaryMetric'],
      input: primary,
      message: `is not measured for a ${model.task} model (measured: ${METRICS_BY_TASK[model.task].join(', ')})`,
    });
  }
}
export type ModelConfig = MlcycleConfig['models'][string];
export type EnvironmentConfig = MlcycleConfig['environments'][string];

const hours = (seconds: number) => `${Math.floor((seconds / 3600) * 10) / 10}`;

/**
 * Every model may be trained for every environment (`pipeline start --stage`), so each
 * environment's approval wait must fit after the longest Train budget within the execution
 * timeout: past it, Step Functions ends the execution without RecordFailure.
 */
function checkExecutionBudgets(cfg: z.output<typeof configShape>, ctx: z.RefinementCtx): void {
  let longest = { model: '', seconds: 0 };
  for (const [model, m] of Object.entries(cfg.models)) {
    // A training run waits for three Batch jobs: Train, Predict (the holdout) and SmokePredict.
    const seconds =
      trainTaskTimeoutSeconds(trainingBudget(cfg.batch, m.training)) +
      2 * trainTaskTimeoutSeconds(predictBudget(cfg.batch, m.training));
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
        `with the longest training budget (${longest.model}: ${hours(longest.seconds)} h for its train, predict and smoke-test jobs) and the Lambda steps ` +
        `(${hours(LAMBDA_STEPS_ALLOWANCE_SECONDS)} h), an execution would take ${hours(budget.totalSeconds)} h, past ` +
        `Step Functions' limit of one year per execution (${hours(EXECUTION_TIMEOUT_SECONDS)} h): at most ${hours(budget.maxApprovalWaitSeconds)} h`,
    });
  }
}

export function monitoringRuntimeConfig(config: MlcycleConfig): MonitoringRuntimeConfig {
  // The concurrency caps are the stack's business, not the handlers': they stay out of the env.
  const { reservedConcurrency: _caps, ...monitoring } = config.monitoring;
  return {
    ...monitoring,
    models: Object.fromEntries(
      Object.entries(config.models).map(([name, m]) => [
        name,
        { target: m.target, task: m.task, exclude: m.exclude, performance: m.monitoring.performance },
      ]),
    ),
  };
}
