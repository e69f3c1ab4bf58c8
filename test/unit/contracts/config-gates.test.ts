import { describe, expect, it } from 'vitest';
import {
  gateMetricProblem,
  gateSchema,
  HIGHER_IS_BETTER,
  higherIsBetter,
  METRIC_NAMES,
  METRICS_BY_TASK,
} from '../../../lambdas/contracts/config-gates.js';
import { measuredMetricsSchema, metricsSchema } from '../../../lambdas/contracts/pipeline.js';
import { TASK_TYPES } from '../../../lambdas/contracts/trainer.js';
import { measureTask } from '../../../lambdas/domain/ml/task-metrics.js';
import { evaluateGates } from '../../../lambdas/domain/registry/gates.js';

/** One tiny holdout per task, to check METRICS_BY_TASK against what measureTask reports. */
const samples = {
  binary: measureTask('binary', ['0', '1', '1'], [0.2, 0.7, 0.4]),
  multiclass: measureTask(
    'multiclass',
    ['a', 'b'],
    [
      { a: 0.6, b: 0.4 },
      { a: 0.3, b: 0.7 },
    ],
  ),
  regression: measureTask('regression', ['1', '2', '4'], [1.5, 2, 3]),
};

describe('metric names per task', () => {
  it('METRICS_BY_TASK lists exactly what measureTask measures, and METRIC_NAMES is their union', () => {
    for (const task of TASK_TYPES) {
      expect([...METRICS_BY_TASK[task]].sort(), task).toEqual(Object.keys(samples[task].metrics).sort());
    }
    expect([...METRIC_NAMES].sort()).toEqual(
      [...new Set(TASK_TYPES.flatMap((t) => METRICS_BY_TASK[t]))].sort(),
    );
  });

  it('knows the direction of every metric: errors and losses are lower-is-better', () => {
    expect(METRIC_NAMES.filter((m) => !higherIsBetter(m)).sort()).toEqual(['logLoss', 'mae', 'rmse']);
    for (const m of ['auc', 'accuracy', 'precision', 'recall', 'f1', 'macroF1', 'r2'] as const) {
      expect(higherIsBetter(m), m).toBe(true);
      expect(HIGHER_IS_BETTER[m]).toBe(true);
    }
  });

  it('accepts the existing gate configs and gates on the new metrics', () => {
    expect(gateSchema.parse({ metric: 'auc', operator: '>=', threshold: 0.7 })).toMatchObject({
      required: true,
    });
    expect(gateSchema.parse({ metric: 'logLoss', noWorseThanServingBy: 0.01 })).toMatchObject({
      required: true,
    });
    expect(gateSchema.parse({ metric: 'rmse', operator: '<=', threshold: 2.5 })).toMatchObject({
      metric: 'rmse',
    });
    expect(gateSchema.parse({ metric: 'macroF1', noWorseThanServingBy: 0.02 })).toMatchObject({
      metric: 'macroF1',
    });
  });

  it('refuses an unknown metric, listing the ones that exist', () => {
    const result = gateSchema.safeParse({ metric: 'mse', operator: '<', threshold: 1 });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(/rmse/);
  });

  it('a relative rmse gate treats a higher rmse as worse', () => {
    const gate = gateSchema.parse({ metric: 'rmse', noWorseThanServingBy: 0.1 });
    const serving = { version: '1.0.0', metrics: { rmse: 1.0 } };
    expect(evaluateGates([gate], { rmse: 1.05 }, serving, false).passed).toBe(true);
    expect(evaluateGates([gate], { rmse: 1.2 }, serving, false).passed).toBe(false);
    expect(evaluateGates([gate], { rmse: 0.5 }, serving, false).passed).toBe(true);
  });
});

describe('measured metrics (Register input)', () => {
  it("accepts any task's full metric set and refuses a partial one, naming each task's metrics", () => {
    expect(measuredMetricsSchema.safeParse(samples.binary.metrics).success).toBe(true);
    expect(measuredMetricsSchema.safeParse(samples.multiclass.metrics).success).toBe(true);
    expect(measuredMetricsSchema.safeParse(samples.regression.metrics).success).toBe(true);
    const partial = measuredMetricsSchema.safeParse({ rmse: 1, r2: 0.5 });
    expect(partial.success).toBe(false);
    expect(partial.error?.issues.map((i) => i.path.join('.'))).toEqual(['mae']);
    expect(partial.error?.issues[0]?.message).toMatch(/regression evaluation has rmse, mae, r2/);
  });

  it('keeps a regression metric through parsing (nothing measured is dropped)', () => {
    expect(metricsSchema.parse({ rmse: 1.5, mae: 1, r2: 0.3 })).toEqual({ rmse: 1.5, mae: 1, r2: 0.3 });
  });
});

describe('gateMetricProblem', () => {
  it("says when a gate's metric is not one the model's task measures, listing the task's metrics", () => {
    expect(gateMetricProblem('regression', 'rmse')).toBeUndefined();
    expect(gateMetricProblem('binary', 'logLoss')).toBeUndefined();
    expect(gateMetricProblem('multiclass', 'logLoss')).toBeUndefined();
    expect(gateMetricProblem('regression', 'reported:validationRmse')).toBeUndefined();
    expect(gateMetricProblem('regression', 'auc')).toMatch(
      /does not measure for a regression model \(it measures: rmse, mae, r2\)/,
    );
    expect(gateMetricProblem('multiclass', 'f1')).toMatch(/it measures: accuracy, macroF1, logLoss/);
  });
});
