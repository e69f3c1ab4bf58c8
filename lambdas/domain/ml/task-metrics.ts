import type { TaskType } from '../../contracts/trainer.js';
import { DataError } from '../errors.js';
import { classificationMetrics, LOG_LOSS_EPSILON } from './metrics.js';
import type { Prediction } from './predictions.js';

/**
 * The metrics the platform measures on the holdout, by task type (METRICS_BY_TASK): binary auc,
 * logLoss, accuracy, precision, recall, f1 (threshold 0.5, labels '0'/'1'); multiclass accuracy,
 * macroF1, logLoss; regression rmse, mae, r2.
 *
 * Minimal version written by the eval-pipeline lane until the task-metrics lane's lands.
 */
export interface TaskMeasurement {
  readonly metrics: Record<string, number>;
  readonly details: Record<string, unknown>;
}

export function measureTask(
  task: TaskType,
  labels: readonly string[],
  predictions: readonly Prediction[],
): TaskMeasurement {
  if (labels.length !== predictions.length) {
    throw new DataError(`${predictions.length} predictions for ${labels.length} holdout labels`);
  }
  if (!labels.length) throw new DataError('the holdout has no rows to measure');
  if (task === 'binary') return binary(labels, predictions as readonly number[]);
  if (task === 'multiclass') return multiclass(labels, predictions as readonly Record<string, number>[]);
  return regression(labels, predictions as readonly number[]);
}

function binary(labels: readonly string[], scores: readonly number[]): TaskMeasurement {
  const y = labels.map((l, i) => {
    const n = Number(l.trim());
    if (n !== 0 && n !== 1) throw new DataError(`holdout label ${i + 1} is ${JSON.stringify(l)}, not 0 or 1`);
    return n;
  });
  const positives = y.filter((v) => v === 1).length;
  return {
    metrics: { ...classificationMetrics(y, scores, 0.5) },
    details: { rows: y.length, positives, positiveRate: positives / y.length, threshold: 0.5 },
  };
}

function multiclass(labels: readonly string[], rows: readonly Record<string, number>[]): TaskMeasurement {
  const classes = [...new Set([...labels, ...rows.flatMap((r) => Object.keys(r))])].sort();
  const predicted = rows.map((r) => {
    let best = '';
    let bestP = -1;
    for (const [label, p] of Object.entries(r))
      if (p > bestP || (p === bestP && label < best)) [best, bestP] = [label, p];
    return best;
  });
  let correct = 0;
  let loss = 0;
  labels.forEach((label, i) => {
    if (predicted[i] === label) correct++;
    loss -= Math.log(Math.max(LOG_LOSS_EPSILON, rows[i]?.[label] ?? 0));
  });
  const perClass: Record<string, { precision: number; recall: number; f1: number; support: number }> = {};
  for (const c of classes) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    labels.forEach((label, i) => {
      if (predicted[i] === c && label === c) tp++;
      else if (predicted[i] === c) fp++;
      else if (label === c) fn++;
    });
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[c] = { precision, recall, f1, support: tp + fn };
  }
  // Macro over the classes present in the holdout (as scikit-learn over y_true ∪ y_pred).
  const f1s = Object.values(perClass).map((p) => p.f1);
  return {
    metrics: {
      accuracy: correct / labels.length,
      macroF1: f1s.reduce((a, b) => a + b, 0) / f1s.length,
      logLoss: loss / labels.length,
    },
    details: { rows: labels.length, classes, perClass },
  };
}

function regression(labels: readonly string[], values: readonly number[]): TaskMeasurement {
  const y = labels.map((l, i) => {
    const n = l.trim() === '' ? Number.NaN : Number(l);
    if (!Number.isFinite(n))
      throw new DataError(`holdout label ${i + 1} is ${JSON.stringify(l)}, not a number`);
    return n;
  });
  const n = y.length;
  const mean = y.reduce((a, b) => a + b, 0) / n;
  let se = 0;
  let ae = 0;
  let tot = 0;
  y.forEach((v, i) => {
    const e = v - (values[i] ?? Number.NaN);
    se += e * e;
    ae += Math.abs(e);
    tot += (v - mean) ** 2;
  });
  return {
    metrics: { rmse: Math.sqrt(se / n), mae: ae / n, r2: tot > 0 ? 1 - se / tot : 0 },
    details: { rows: n, meanLabel: mean, meanPrediction: values.reduce((a, b) => a + b, 0) / n },
  };
}
