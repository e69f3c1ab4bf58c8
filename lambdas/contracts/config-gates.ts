import { z } from 'zod';
import type { TaskType } from './trainer.js';

/** What the platform measures per model task (lambdas/domain/ml/task-metrics.ts measureTask). */
export const BINARY_METRICS = ['auc', 'accuracy', 'precision', 'recall', 'f1', 'logLoss'] as const;
export const MULTICLASS_METRICS = ['accuracy', 'macroF1', 'logLoss'] as const;
export const REGRESSION_METRICS = ['rmse', 'mae', 'r2'] as const;

/** Every metric a gate or a primaryMetric can name: the union of the tasks' metrics. */
export const METRIC_NAMES = [
  'auc',
  'accuracy',
  'precision',
  'recall',
  'f1',
  'logLoss',
  'macroF1',
  'rmse',
  'mae',
  'r2',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export const METRICS_BY_TASK: Readonly<Record<TaskType, readonly MetricName[]>> = {
  binary: BINARY_METRICS,
  multiclass: MULTICLASS_METRICS,
  regression: REGRESSION_METRICS,
};

/** Direction of "better" per metric; relative gates use it. Losses and errors: lower is better. */
export const HIGHER_IS_BETTER: Readonly<Record<MetricName, boolean>> = {
  auc: true,
  accuracy: true,
  precision: true,
  recall: true,
  f1: true,
  logLoss: false,
  macroF1: true,
  rmse: false,
  mae: false,
  r2: true,
};

export function higherIsBetter(metric: MetricName): boolean {
  return HIGHER_IS_BETTER[metric];
}

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

/**
 * Why a gate or primaryMetric on `metric` cannot work for a model of `task` (its task's
 * evaluation never measures it), or undefined when it can. For the config's cross-checks.
 */
export function metricTaskProblem(task: TaskType, metric: MetricName): string | undefined {
  const measured = METRICS_BY_TASK[task];
  if (measured.includes(metric)) return undefined;
  return `${metric} is not measured for a ${task} model (${task} metrics: ${measured.join(', ')})`;
}
