import { z } from 'zod';
import type { TaskType } from './trainer.js';

/** Every metric the platform measures, over all task types (METRICS_BY_TASK says which is whose). */
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
/** Direction of "better" per metric; relative gates use it. */
export const HIGHER_IS_BETTER: Record<MetricName, boolean> = {
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

/** The metrics the platform measures on the holdout, per task type (lambdas/domain/ml/task-metrics.ts). */
export const BINARY_METRICS = ['auc', 'logLoss', 'accuracy', 'precision', 'recall', 'f1'] as const;
export const MULTICLASS_METRICS = ['accuracy', 'macroF1', 'logLoss'] as const;
export const REGRESSION_METRICS = ['rmse', 'mae', 'r2'] as const;
export const METRICS_BY_TASK: Readonly<Record<TaskType, readonly MetricName[]>> = {
  binary: BINARY_METRICS,
  multiclass: MULTICLASS_METRICS,
  regression: REGRESSION_METRICS,
};

export function higherIsBetter(metric: string): boolean {
  return HIGHER_IS_BETTER[metric as MetricName] ?? true;
}

/** A gate on a metric the trainer reported (reported-metrics.json), not one mlcycle measured. */
export const REPORTED_PREFIX = 'reported:';
export type ReportedMetricName = `reported:${string}`;
const REPORTED_METRIC = /^reported:[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
export const isReportedMetric = (metric: string): metric is ReportedMetricName =>
  REPORTED_METRIC.test(metric);

export const GATE_OPERATORS = ['<', '<=', '>', '>=', '=='] as const;

const absoluteGate = z.strictObject({
  /** A measured metric, or `reported:<name>` for one the trainer reported (said so on the approval page). */
  metric: z.custom<MetricName | ReportedMetricName>(
    (v) => typeof v === 'string' && ((METRIC_NAMES as readonly string[]).includes(v) || isReportedMetric(v)),
    `must be a measured metric (${METRIC_NAMES.join(', ')}) or reported:<name> for a metric the trainer reports`,
  ),
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

/** Why a gate cannot apply to a model of this task, or undefined when it can. */
export function gateMetricProblem(task: TaskType, metric: string): string | undefined {
  if (isReportedMetric(metric)) return undefined;
  const family = METRICS_BY_TASK[task];
  if ((family as readonly string[]).includes(metric)) return undefined;
  return (
    `gates on ${metric}, which mlcycle does not measure for a ${task} model (it measures: ${family.join(', ')}); ` +
    `give the model its own gates under models.<model>.gates.<stage>, or gate on reported:<name>`
  );
}
