import { z } from 'zod';
import { METRIC_NAMES, type MetricName } from './config-gates.js';

/**
 * A hyperparameter sweep (issue 14, part 3): which values of which hyperparameters to try, how
 * many trials, how many at once, which measured metric chooses the best trial, and when a weak
 * trial is stopped. Given as a YAML file to `mlcycle sweep start <model> <spec.yaml>`, recorded by
 * the start service with the execution's start record (so the execution runs what was asked and
 * checked, never what its input claims), and planned into trials by Admit.
 */

const value = z.union([z.number(), z.string().max(200, 'must be at most 200 characters'), z.boolean()]);
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const range = z
  .tuple([finite, finite])
  .refine(([lo, hi]) => lo < hi, 'must be [low, high] with low below high');

/** How one hyperparameter varies: listed values (grid, choice) or a range to sample. */
export const sweepParameterSchema = z.union([
  z.strictObject({ grid: z.array(value).min(1, 'lists no values').max(100, 'lists more than 100 values') }),
  z.strictObject({ choice: z.array(value).min(1, 'lists no values').max(100, 'lists more than 100 values') }),
  z.strictObject({ uniform: range }),
  z.strictObject({
    logUniform: range.refine(([lo]) => lo > 0, 'must be positive: a log-uniform range starts above 0'),
  }),
  z.strictObject({
    int: z
      .tuple([z.number().int('must be an integer'), z.number().int('must be an integer')])
      .refine(([lo, hi]) => lo <= hi, 'must be [low, high] with low at most high'),
  }),
]);
export type SweepParameter = z.infer<typeof sweepParameterSchema>;

export const SWEEP_STRATEGIES = ['grid', 'random'] as const;
export const EARLY_STOPPING_RULES = ['asha', 'median', 'none'] as const;
export const DIRECTIONS = ['max', 'min'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** At most this many trials in one sweep (the Map's items travel in the execution state). */
export const MAX_SWEEP_TRIALS = 100;
/** MaxConcurrency of the trials' Map: at most this many trials train at once. */
export const MAX_SWEEP_CONCURRENCY = 20;

const hyperparameterName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a hyperparameter name (letters, digits, underscores)');

export const earlyStoppingSchema = z
  .strictObject({
    /** asha: successive halving at rungs minEpochs·η^k; median: the median stopping rule; none. */
    rule: z.enum(EARLY_STOPPING_RULES).default('none'),
    /** The first rung (asha), or the first epoch the median rule looks at. */
    minEpochs: z.number().int().min(1).max(10_000).default(1),
    /** η of ASHA: rungs at minEpochs·η^k, and the top 1/η of a rung go on. */
    reductionFactor: z.number().gt(1, 'must be above 1').max(100).default(3),
    /** A per-epoch metric of the trainer's metrics.jsonl (trainLoss, validationLoss, validationAuc…). */
    metric: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, 'must be a metric name of the trainer’s metrics.jsonl')
      .optional(),
    /** Whether more is better for that metric; default min for a name with loss or error in it, else max. */
    direction: z.enum(DIRECTIONS).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.rule !== 'none' && !e.metric) {
      ctx.addIssue({
        code: 'custom',
        path: ['metric'],
        message: `is required with rule ${e.rule}: name a per-epoch metric of the trainer's metrics.jsonl, e.g. trainLoss`,
      });
    }
  });
export type EarlyStopping = z.infer<typeof earlyStoppingSchema>;

export const sweepSpecSchema = z.strictObject({
  parameters: z
    .record(hyperparameterName, sweepParameterSchema)
    .refine((p) => Object.keys(p).length >= 1, 'names no hyperparameter: give at least one to vary')
    .refine((p) => Object.keys(p).length <= 20, 'varies more than 20 hyperparameters'),
  /** grid: the cartesian product of the listed values; random: seeded samples. */
  strategy: z.enum(SWEEP_STRATEGIES).default('random'),
  seed: z.number().int().min(0).max(4_294_967_295).default(42),
  /** The trial budget: a grid larger than it is cut to it (and the start says so). */
  trials: z.number().int().min(1).max(MAX_SWEEP_TRIALS),
  concurrency: z.number().int().min(1).max(MAX_SWEEP_CONCURRENCY).default(2),
  /** A metric the platform measures on the holdout for the model's task: it chooses the best trial. */
  metric: z.enum(METRIC_NAMES),
  /** Default: HIGHER_IS_BETTER of the metric. */
  direction: z.enum(DIRECTIONS).optional(),
  earlyStopping: earlyStoppingSchema.default({ rule: 'none', minEpochs: 1, reductionFactor: 3 }),
});
export type SweepSpec = z.infer<typeof sweepSpecSchema>;
export type SweepSpecInput = z.input<typeof sweepSpecSchema>;

/** One trial as the Map iterates it: its index, the swept values, and every hyperparameter it trains with. */
export const sweepTrialSchema = z.object({
  index: z.number().int().min(0),
  overrides: z.record(z.string(), value),
  hyperparameters: z.record(z.string(), value),
});
export type SweepTrial = z.infer<typeof sweepTrialSchema>;

/** The rules each trial is held to (the iteration's `$.sweep`). */
export const sweepRulesSchema = z.object({
  /** The sweep's id: its execution's name. */
  id: z.string().min(1),
  metric: z.enum(METRIC_NAMES),
  direction: z.enum(DIRECTIONS),
  earlyStopping: z.object({
    rule: z.enum(EARLY_STOPPING_RULES),
    minEpochs: z.number().int().min(1),
    reductionFactor: z.number().gt(1),
    metric: z.string(),
    direction: z.enum(DIRECTIONS),
  }),
});
export type SweepRules = z.infer<typeof sweepRulesSchema>;

/** `$.sweep` of a sweep's execution, built by Admit: the Map's items and MaxConcurrencyPath. */
export const sweepPlanSchema = z.object({
  rules: sweepRulesSchema,
  concurrency: z.number().int().min(1).max(MAX_SWEEP_CONCURRENCY),
  trials: z.array(sweepTrialSchema).min(1).max(MAX_SWEEP_TRIALS),
  /** Set when a grid was cut to the budget: how many combinations it had. */
  gridSize: z.number().int().optional(),
});
export type SweepPlan = z.infer<typeof sweepPlanSchema>;

/**
 * `$.trial` of one Map iteration (its ItemSelector): the planned trial and the sweep's rules.
 * PrepareRun records the run as this trial of the sweep `rules.id`; CheckTrial applies the rules.
 */
export const trialRefSchema = sweepTrialSchema.extend({ rules: sweepRulesSchema });
export type TrialRef = z.infer<typeof trialRefSchema>;

/** What the CheckTrial state decides after a trial has trained (`$.check`). */
export const trialCheckSchema = z.object({ stop: z.boolean(), reason: z.string() });
export type TrialCheck = z.infer<typeof trialCheckSchema>;

/** The default direction of a per-epoch metric: down for losses and errors, up otherwise. */
export function epochMetricDirection(metric: string): Direction {
  return /loss|error|rmse|mae/i.test(metric) ? 'min' : 'max';
}

export type { MetricName };
