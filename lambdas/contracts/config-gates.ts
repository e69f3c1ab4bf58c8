import { z } from 'zod';

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
