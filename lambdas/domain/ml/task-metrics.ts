import { mean, sum } from 'simple-statistics';
import type { TaskType } from '../../contracts/trainer.js';
import { EvaluationError } from '../errors.js';
import { type ConfusionMatrix, classificationMetrics, confusionMatrix, LOG_LOSS_EPSILON } from './metrics.js';
import type { Prediction } from './predictions.js';

/**
 * The metrics the platform measures itself, per task, from the predict entry's output on the
 * holdout features and the holdout's true labels (which no job sees). Gates run on these only.
 *
 * Labels arrive as the CSV's strings, one per holdout row, in the order of the predictions.
 * - binary: "1"/"0" in any numeric spelling ("1.0") or true/false, as the datasets' binaryTarget
 *   reads them (a dataset a trainer accepts must not be refused at evaluation); the prediction
 *   is the probability of 1, and 0.5 is the threshold of accuracy, precision, recall and f1.
 * - multiclass: labels are strings compared exactly; a prediction is {label: probability}.
 * - regression: labels must be finite numbers; a prediction is a number.
 */

export interface ClassScores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Rows whose true label is this class. */
  readonly support: number;
}

export type TaskDetails =
  | {
      readonly task: 'binary';
      readonly rows: number;
      readonly positives: number;
      readonly threshold: number;
      readonly confusion: ConfusionMatrix;
    }
  | {
      readonly task: 'multiclass';
      readonly rows: number;
      /** Union of the labels seen and the labels predicted (argmax), sorted. */
      readonly classes: readonly string[];
      readonly perClass: Readonly<Record<string, ClassScores>>;
    }
  | {
      readonly task: 'regression';
      readonly rows: number;
      readonly meanLabel: number;
      readonly meanPrediction: number;
      /** Every label is the same value: r2 is then 1 for a perfect fit and 0 otherwise. */
      readonly constantTarget: boolean;
    };

export interface TaskMeasurement {
  readonly metrics: Record<string, number>;
  readonly details: TaskDetails;
}

export const BINARY_THRESHOLD = 0.5;

const shown = (value: unknown) => JSON.stringify(value)?.slice(0, 60) ?? String(value);

function binaryLabel(raw: string, row: number): 0 | 1 {
  const text = raw.trim().toLowerCase();
  if (text === 'true') return 1;
  if (text === 'false') return 0;
  const n = text === '' ? Number.NaN : Number(text);
  if (n === 0 || n === 1) return n;
  throw new EvaluationError(
    `holdout row ${row}: the label is ${shown(raw)}, but a binary task needs 0/1 (or true/false); ` +
      'encode the target as 0/1 or declare the model task: multiclass',
  );
}

function regressionLabel(raw: string, row: number): number {
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (Number.isFinite(n)) return n;
  throw new EvaluationError(
    `holdout row ${row}: the label is ${shown(raw)}, but a regression task needs a finite number; ` +
      'fix or drop that row, or declare the model task: binary or multiclass',
  );
}

function numberPrediction(p: Prediction, row: number, task: TaskType): number {
  if (typeof p === 'number' && Number.isFinite(p)) return p;
  const expected = task === 'binary' ? "the positive class's probability" : 'a number';
  throw new EvaluationError(`holdout row ${row}: the prediction is ${shown(p)}, expected ${expected}`);
}

function objectPrediction(p: Prediction, row: number): Readonly<Record<string, number>> {
  if (typeof p === 'object' && p !== null && !Array.isArray(p)) return p;
  throw new EvaluationError(
    `holdout row ${row}: the prediction is ${shown(p)}, expected {label: probability}`,
  );
}

function measureBinary(labels: readonly string[], predictions: readonly Prediction[]): TaskMeasurement {
  const y = labels.map((l, i) => binaryLabel(l, i + 1));
  const p = predictions.map((v, i) => {
    const n = numberPrediction(v, i + 1, 'binary');
    if (n < 0 || n > 1) {
      throw new EvaluationError(`holdout row ${i + 1}: the prediction ${n} is not a probability in [0, 1]`);
    }
    return n;
  });
  const metrics = classificationMetrics(y, p, BINARY_THRESHOLD);
  const confusion = confusionMatrix(y, p, BINARY_THRESHOLD);
  return {
    metrics: { ...metrics },
    details: {
      task: 'binary',
      rows: y.length,
      positives: confusion.tp + confusion.fn,
      threshold: BINARY_THRESHOLD,
      confusion,
    },
  };
}

/** The label with the highest probability; a tie goes to the first label in sorted order. */
function argmax(row: Readonly<Record<string, number>>): string {
  let best: string | undefined;
  let bestP = Number.NEGATIVE_INFINITY;
  for (const label of Object.keys(row).sort()) {
    const p = row[label] as number;
    if (p > bestP) {
      best = label;
      bestP = p;
    }
  }
  return best ?? '';
}

function measureMulticlass(labels: readonly string[], predictions: readonly Prediction[]): TaskMeasurement {
  const rows = predictions.map((p, i) => objectPrediction(p, i + 1));
  rows.forEach((row, i) => {
    const bad = Object.entries(row).find(([, p]) => !(typeof p === 'number' && p >= 0 && p <= 1));
    if (bad) {
      throw new EvaluationError(
        `holdout row ${i + 1}: the probability of ${shown(bad[0])} is ${shown(bad[1])}, not in [0, 1]`,
      );
    }
    if (!Object.keys(row).length)
      throw new EvaluationError(`holdout row ${i + 1}: the prediction has no labels`);
  });
  const predicted = rows.map(argmax);
  const classes = [...new Set([...labels, ...predicted])].sort();
  const perClass: Record<string, ClassScores> = {};
  for (const c of classes) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    labels.forEach((truth, i) => {
      const guess = predicted[i];
      if (guess === c && truth === c) tp++;
      else if (guess === c) fp++;
      else if (truth === c) fn++;
    });
    // zero_division=0, as scikit-learn reports it, so a gate on it fails rather than erroring.
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[c] = { precision, recall, f1, support: tp + fn };
  }
  const correct = labels.filter((truth, i) => predicted[i] === truth).length;
  // The true label's probability; a label the row does not name has probability 0 (then clipped).
  const losses = labels.map((truth, i) => {
    const p = (rows[i] as Readonly<Record<string, number>>)[truth] ?? 0;
    return -Math.log(Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, p)));
  });
  return {
    metrics: {
      accuracy: correct / labels.length,
      macroF1: sum(classes.map((c) => (perClass[c] as ClassScores).f1)) / classes.length,
      logLoss: sum(losses) / labels.length,
    },
    details: { task: 'multiclass', rows: labels.length, classes, perClass },
  };
}

function measureRegression(labels: readonly string[], predictions: readonly Prediction[]): TaskMeasurement {
  const y = labels.map((l, i) => regressionLabel(l, i + 1));
  const p = predictions.map((v, i) => numberPrediction(v, i + 1, 'regression'));
  const errors = y.map((truth, i) => (p[i] as number) - truth);
  const meanLabel = mean(y);
  const residual = sum(errors.map((e) => e * e));
  const total = sum(y.map((truth) => (truth - meanLabel) ** 2));
  const constantTarget = y.every((truth) => truth === y[0]);
  // r2 of a constant target is 0/0. Like scikit-learn's r2_score (force_finite), a perfect fit
  // scores 1 and anything else 0: a gate needs a finite number, and "no better than the mean"
  // is what a model of a constant can honestly claim. details.constantTarget says it happened.
  const r2 = constantTarget ? (residual === 0 ? 1 : 0) : 1 - residual / total;
  return {
    metrics: {
      rmse: Math.sqrt(residual / y.length),
      mae: sum(errors.map(Math.abs)) / y.length,
      r2,
    },
    details: { task: 'regression', rows: y.length, meanLabel, meanPrediction: mean(p), constantTarget },
  };
}

/**
 * Measures a model on the holdout: `labels[i]` is the true target of holdout row i+1 and
 * `predictions[i]` the predict entry's output for it (as parsePredictions returns it).
 * Mismatched lengths, an empty holdout, a label the task cannot read and a prediction of the
 * wrong shape are EvaluationErrors naming the row and the value.
 */
export function measureTask(
  task: TaskType,
  labels: readonly string[],
  predictions: readonly Prediction[],
): TaskMeasurement {
  if (labels.length !== predictions.length) {
    throw new EvaluationError(
      `${labels.length} holdout labels but ${predictions.length} predictions: the predict entry must write ` +
        'exactly one prediction per input row, in order',
    );
  }
  if (!labels.length) throw new EvaluationError('the holdout is empty: there is nothing to measure');
  if (task === 'binary') return measureBinary(labels, predictions);
  if (task === 'multiclass') return measureMulticlass(labels, predictions);
  return measureRegression(labels, predictions);
}
