import { trainTaskTimeoutSeconds } from '../../contracts/budgets.js';
import {
  type EnvironmentConfig,
  type MlcycleConfig,
  type ModelConfig,
  predictAttemptSeconds,
  predictBudget,
  trainingBudget,
} from '../../contracts/config-schema.js';
import {
  type PipelineState,
  pipelineStateSchema,
  type StartRecord,
  type TrainingSettings,
} from '../../contracts/pipeline.js';
import { NotFoundError } from '../errors.js';
import { checkOverrides } from '../ml/trainer-config.js';
import { planSweep } from '../sweeps/plan.js';

/**
 * What the deployed config says about one execution. The config is the deployed stack's (a file
 * in the functions' layer on AWS, the one `mlcycle up` started with locally), never the caller's.
 */
export function requireModel(config: MlcycleConfig, model: string): ModelConfig {
  const found = config.models[model];
  if (!found) {
    throw new NotFoundError(
      `unknown model "${model}"; the deployed config defines: ${Object.keys(config.models).join(', ')}`,
    );
  }
  return found;
}

export function requireStage(config: MlcycleConfig, stage: string): EnvironmentConfig {
  const found = config.environments[stage];
  if (!found) {
    throw new NotFoundError(
      `unknown stage "${stage}"; the deployed config defines: ${Object.keys(config.environments).join(', ')}`,
    );
  }
  return found;
}

export function trainingSettings(config: MlcycleConfig, model: string): TrainingSettings {
  const m = requireModel(config, model);
  return {
    task: m.task,
    trainer: m.training.image,
    splitKey: m.evaluation.splitKey ?? '',
    validationFraction: m.evaluation.validationFraction,
    seed: m.evaluation.seed,
    useGpu: m.training.resources.gpus > 0 ? '1' : '0',
    target: m.target,
    exclude: m.exclude,
    hyperparameters: m.training.hyperparameters,
    holdoutFraction: m.evaluation.holdoutFraction,
    timeoutSeconds: m.training.timeoutMinutes * 60,
    taskTimeoutSeconds: trainTaskTimeoutSeconds(trainingBudget(config.batch, m.training)),
    predictTimeoutSeconds: predictAttemptSeconds(m.training),
    predictTaskTimeoutSeconds: trainTaskTimeoutSeconds(predictBudget(config.batch, m.training)),
  };
}

/** The state Admit hands on: the request as recorded, the policy's wait and the training settings. */
export function admittedState(
  config: MlcycleConfig,
  record: StartRecord,
  execution: { arn: string; name: string },
): PipelineState {
  const env = requireStage(config, record.request.stage);
  const { sweep, ...request } = record.request;
  const training = withOverrides(config, record);
  // A sweep's trials, planned from the recorded spec (same seed, same trials as the start checked);
  // the sweep's id is its execution's name.
  const plan = sweep
    ? planSweep(
        {
          model: request.model,
          task: training.task,
          trainer: config.trainers?.[request.model],
          base: training.hyperparameters,
        },
        sweep,
        execution.name,
      )
    : undefined;
  const { message: _message, ...sweepPlan } = plan ?? {};
  return pipelineStateSchema.parse({
    ...request,
    rollout: request.rollout ?? null,
    execution,
    requestedBy: record.requestedBy,
    trigger: record.trigger,
    training,
    approvalWait: { timeoutSeconds: Math.max(1, Math.round(env.approvalTimeoutHours * 3600)) },
    ...(plan ? { sweep: sweepPlan } : {}),
  });
}

/**
 * The run's training settings with the recorded `--set` overrides applied, checked again against
 * the deployed trainer schema (the start service checked them before recording them).
 */
function withOverrides(config: MlcycleConfig, record: StartRecord): TrainingSettings {
  const settings = trainingSettings(config, record.request.model);
  const overrides = record.request.overrides;
  if (Object.keys(overrides).length === 0) return settings;
  const model = record.request.model;
  const coerced = checkOverrides(model, config.trainers?.[model], settings.hyperparameters, overrides);
  return { ...settings, hyperparameters: { ...settings.hyperparameters, ...coerced } };
}
