import { z } from 'zod';

/**
 * The trainer contract, v1 (docs/trainer-contract.md): the schema of a trainer's `trainer.yaml`,
 * the environment variables the platform sets for its train and predict entries, and the
 * validation of hyperparameters against the schema a trainer declares.
 *
 * Pure: zod only, no I/O and no domain imports, so the CDK stack (job definitions), the Admit
 * handler (hyperparameters at pipeline start), the CLI and the local runner share it.
 */

export const TRAINER_CONTRACT = 'mlcycle.trainer/v1';

export const TASK_TYPES = ['binary', 'multiclass', 'regression'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const LOCAL_RUNTIMES = ['python3', 'node'] as const;
export type LocalRuntime = (typeof LOCAL_RUNTIMES)[number];

/** Environment of both entries. Paths are local: on Batch a stager maps S3 to them. */
export const CONTRACT_ENV = {
  contract: 'MLCYCLE_CONTRACT',
  task: 'MLCYCLE_TASK',
  // train mode
  model: 'MLCYCLE_MODEL',
  runId: 'MLCYCLE_RUN_ID',
  codeVersion: 'MLCYCLE_CODE_VERSION',
  target: 'MLCYCLE_TARGET',
  train: 'MLCYCLE_TRAIN',
  validation: 'MLCYCLE_VALIDATION',
  hyperparameters: 'MLCYCLE_HYPERPARAMETERS',
  outputDir: 'MLCYCLE_OUTPUT_DIR',
  checkpointDir: 'MLCYCLE_CHECKPOINT_DIR',
  useGpu: 'MLCYCLE_USE_GPU',
  // predict mode
  modelDir: 'MLCYCLE_MODEL_DIR',
  input: 'MLCYCLE_INPUT',
  predictions: 'MLCYCLE_PREDICTIONS',
} as const;

/** The value of MLCYCLE_CONTRACT for v1. */
export const CONTRACT_ENV_VERSION = '1';

/** What a train entry leaves in MLCYCLE_OUTPUT_DIR. */
export const TRAINER_OUTPUT = {
  /** Directory: everything the predict entry needs. Required. */
  modelDir: 'model',
  /** One JSON object per epoch or iteration. Optional. */
  metrics: 'metrics.jsonl',
  /** The trainer's fragment of the model card. Required. */
  modelCard: 'model-card.json',
  /** Metrics the trainer claims; stored as "reported", never gated on. Optional. */
  reportedMetrics: 'reported-metrics.json',
} as const;

const HYPERPARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const integerSpec = z.strictObject({
  type: z.literal('integer'),
  min: z.number().int().optional(),
  max: z.number().int().optional(),
  default: z.number().int().optional(),
  description: z.string().optional(),
});
const numberSpec = z.strictObject({
  type: z.literal('number'),
  min: z.number().optional(),
  max: z.number().optional(),
  default: z.number().optional(),
  description: z.string().optional(),
});
const stringSpec = z.strictObject({
  type: z.literal('string'),
  choices: z.array(z.string()).min(1).optional(),
  default: z.string().optional(),
  description: z.string().optional(),
});
const booleanSpec = z.strictObject({
  type: z.literal('boolean'),
  default: z.boolean().optional(),
  description: z.string().optional(),
});

export type HyperparameterValue = number | string | boolean;
export type Hyperparameters = Record<string, HyperparameterValue>;

/** Why a number is outside a declared [min, max], or undefined when it is inside. */
export function rangeProblem(spec: { min?: number; max?: number }, value: number): string | undefined {
  if (spec.min !== undefined && value < spec.min) return `${value} is below the minimum ${spec.min}`;
  if (spec.max !== undefined && value > spec.max) return `${value} is above the maximum ${spec.max}`;
  return undefined;
}

/** One declared hyperparameter: its type, range or choices, and default (no default = required). */
export const hyperparameterSpecSchema = z
  .discriminatedUnion('type', [integerSpec, numberSpec, stringSpec, booleanSpec])
  .superRefine((spec, ctx) => {
    if (spec.type === 'integer' || spec.type === 'number') {
      if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) {
        ctx.addIssue({
          code: 'custom',
          path: ['min'],
          input: spec.min,
          message: `min ${spec.min} is above max ${spec.max}`,
        });
      }
      if (spec.default !== undefined) {
        const problem = rangeProblem(spec, spec.default);
        if (problem)
          ctx.addIssue({ code: 'custom', path: ['default'], input: spec.default, message: problem });
      }
    }
    if (spec.type === 'string' && spec.choices && spec.default !== undefined) {
      if (!spec.choices.includes(spec.default)) {
        ctx.addIssue({
          code: 'custom',
          path: ['default'],
          input: spec.default,
          message: `is not one of the choices (${spec.choices.join(', ')})`,
        });
      }
    }
  });
export type HyperparameterSpec = z.infer<typeof hyperparameterSpecSchema>;

const argv = z.array(z.string().min(1)).min(1);

/** `trainer.yaml`, contract v1. */
export const trainerManifestSchema = z
  .strictObject({
    contract: z.literal(TRAINER_CONTRACT),
    /** Lower-case letters, digits and dashes; the name of the trainer's folder. */
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes (at most 63)'),
    /** Free text, recorded in lineage and the model card ("scikit-learn 1.2"). */
    framework: z.string().min(1),
    tasks: z
      .array(z.enum(TASK_TYPES))
      .min(1)
      .refine((tasks) => new Set(tasks).size === tasks.length, 'lists a task twice'),
    /** argv of the train entry, run in the trainer folder (locally) or the image WORKDIR (Batch). */
    train: argv,
    /** argv of the predict entry, in the same image. */
    predict: argv,
    /** True if the trainer uses a GPU when one is allocated. */
    gpu: z.boolean().default(false),
    /** How to run it on this machine without Docker; absent = Docker only. */
    local: z
      .strictObject({
        runtime: z.enum(LOCAL_RUNTIMES),
        /** Modules that must import (Python) or resolve (Node). */
        requires: z.array(z.string().regex(/^[A-Za-z_@][\w./@-]*$/, 'must be a module name')).default([]),
      })
      .optional(),
    hyperparameters: z
      .record(
        z.string().regex(HYPERPARAMETER_NAME, 'hyperparameter names are letters, digits and underscores'),
        hyperparameterSpecSchema,
      )
      .default({}),
  })
  .superRefine((manifest, ctx) => {
    // Locally the runner replaces the runtime word with the interpreter it found, so the entries
    // must start with it.
    if (!manifest.local) return;
    for (const entry of ['train', 'predict'] as const) {
      if (manifest[entry][0] !== manifest.local.runtime) {
        ctx.addIssue({
          code: 'custom',
          path: [entry, 0],
          input: manifest[entry][0],
          message: `must be the local runtime ${manifest.local.runtime} to run the trainer locally (or drop local:)`,
        });
      }
    }
  });
export type TrainerManifest = z.infer<typeof trainerManifestSchema>;

/** What the platform knows when it starts a train entry. */
export interface TrainModeInputs {
  readonly model: string;
  readonly runId: string;
  readonly codeVersion: string;
  readonly task: TaskType;
  readonly target: string;
  /** Local path of the training CSV. */
  readonly train: string;
  /** Local path of the validation CSV, or undefined when the stage asks for none. */
  readonly validation?: string | undefined;
  /** Already validated (validateHyperparameters), defaults filled in. */
  readonly hyperparameters: Hyperparameters;
  readonly outputDir: string;
  readonly checkpointDir: string;
  readonly useGpu: boolean;
}

/** The train entry's environment: every name in one place, so Batch and the local runner agree. */
export function trainModeEnv(inputs: TrainModeInputs): Record<string, string> {
  return {
    [CONTRACT_ENV.contract]: CONTRACT_ENV_VERSION,
    [CONTRACT_ENV.model]: inputs.model,
    [CONTRACT_ENV.runId]: inputs.runId,
    [CONTRACT_ENV.codeVersion]: inputs.codeVersion,
    [CONTRACT_ENV.task]: inputs.task,
    [CONTRACT_ENV.target]: inputs.target,
    [CONTRACT_ENV.train]: inputs.train,
    [CONTRACT_ENV.validation]: inputs.validation ?? '',
    [CONTRACT_ENV.hyperparameters]: JSON.stringify(inputs.hyperparameters),
    [CONTRACT_ENV.outputDir]: inputs.outputDir,
    [CONTRACT_ENV.checkpointDir]: inputs.checkpointDir,
    [CONTRACT_ENV.useGpu]: inputs.useGpu ? '1' : '0',
  };
}

export interface PredictModeInputs {
  readonly task: TaskType;
  /** The `model/` directory as the train entry wrote it. */
  readonly modelDir: string;
  /** Rows to predict: `.csv` with a header row, or `.jsonl`; never the target column. */
  readonly input: string;
  /** The file the predict entry writes: one JSON value per input row. */
  readonly predictions: string;
}

export function predictModeEnv(inputs: PredictModeInputs): Record<string, string> {
  return {
    [CONTRACT_ENV.contract]: CONTRACT_ENV_VERSION,
    [CONTRACT_ENV.task]: inputs.task,
    [CONTRACT_ENV.modelDir]: inputs.modelDir,
    [CONTRACT_ENV.input]: inputs.input,
    [CONTRACT_ENV.predictions]: inputs.predictions,
  };
}

/** Variables each mode must have (MLCYCLE_VALIDATION may be empty, the others may not). */
export const REQUIRED_ENV = {
  train: [
    CONTRACT_ENV.contract,
    CONTRACT_ENV.model,
    CONTRACT_ENV.runId,
    CONTRACT_ENV.codeVersion,
    CONTRACT_ENV.task,
    CONTRACT_ENV.target,
    CONTRACT_ENV.train,
    CONTRACT_ENV.hyperparameters,
    CONTRACT_ENV.outputDir,
    CONTRACT_ENV.checkpointDir,
    CONTRACT_ENV.useGpu,
  ],
  predict: [
    CONTRACT_ENV.contract,
    CONTRACT_ENV.task,
    CONTRACT_ENV.modelDir,
    CONTRACT_ENV.input,
    CONTRACT_ENV.predictions,
  ],
} as const;

/**
 * What the deployed config carries of each model's trainer (config key `trainers.<model>`),
 * written by mlcycle when it loads mlcycle.config.yaml (CLI, `up`, synth) from the model's
 * `training.image` folder: the server side validates `--set` overrides against it, since the
 * trainer folders are not deployed with the functions.
 */
export const deployedTrainerSchema = z.strictObject({
  /** The trainer folder as the config names it (`training.image`). */
  folder: z.string().min(1),
  name: z.string().min(1),
  tasks: z.array(z.enum(TASK_TYPES)).min(1),
  hyperparameters: z.record(z.string(), hyperparameterSpecSchema),
});
export type DeployedTrainer = z.infer<typeof deployedTrainerSchema>;
