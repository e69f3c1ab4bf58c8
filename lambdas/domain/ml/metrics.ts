import type { Metrics } from '../../contracts/pipeline.js';
import { EvaluationError } from '../errors.js';

/** Probabilities are clipped to [ε, 1 − ε] so one confident mistake costs ≈ 34.5, not infinity. */
export const LOG_LOSS_EPSILON = 1e-15;

export interface ConfusionMatrix {
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
}

function checkInputs(labels: readonly number[], scores: readonly number[]): void {
  if (labels.length !== scores.length) {
    throw new EvaluationError(`${labels.length} labels but ${scores.length} predictions`);
  }
  if (!labels.length) throw new EvaluationError('the evaluation set is empty');
  const badLabel = labels.findIndex((y) => y !== 0 && y !== 1);
  if (badLabel >= 0) throw new EvaluationError(`label #${badLabel} is ${labels[badLabel]}, not 0 or 1`);
  const badScore = scores.findIndex((p) => !Number.isFinite(p));
  if (badScore >= 0)
    throw new EvaluationError(`prediction #${badScore} is ${scores[badScore]}, not a number`);
}

/**
 * ROC AUC by the rank-sum (Mann–Whitney) formula, with tied scores given their average rank,
 * which equals P(score of a random positive > a random negative) + ½ P(tie).
 */
export function auc(labels: readonly number[], scores: readonly number[]): number {
  checkInputs(labels, scores);
  const n = labels.length;
  const order = [...Array(n).keys()].sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k] as number] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    throw new EvaluationError(
      `AUC needs both classes, but the evaluation set has ${positives} positive and ${negatives} negative rows; ` +
        'use a larger or stratified holdout',
    );
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean binary cross-entropy (natural log), with probabilities clipped away from 0 and 1. */
export function logLoss(labels: readonly number[], probabilities: readonly number[]): number {
  checkInputs(labels, probabilities);
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, probabilities[i] as number));
    total -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return total / labels.length;
}

/** Counts at a decision threshold: a probability ≥ threshold predicts 1. */
export function confusionMatrix(
  labels: readonly number[],
  probabilities: readonly number[],
  threshold = 0.5,
): ConfusionMatrix {
  checkInputs(labels, probabilities);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = (probabilities[i] as number) >= threshold;
    if (predicted && labels[i] === 1) tp++;
    else if (predicted) fp++;
    else if (labels[i] === 1) fn++;
    else tn++;
  }
  return { tp, fp, tn, fn };
}

/**
 * Every binary metric (keys as BINARY_METRICS). Precision with no predicted positives,
 * recall with no actual positives and F1 when both are 0 are reported as 0, as scikit-learn's
 * `zero_division=0` does, so a gate on them fails rather than erroring.
 */
export function classificationMetrics(
  labels: readonly number[],
  probabilities: readonly number[],
  threshold = 0.5,
): Metrics {
  const { tp, fp, tn, fn } = confusionMatrix(labels, probabilities, threshold);
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return {
    auc: auc(labels, probabilities),
    accuracy: (tp + tn) / labels.length,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    logLoss: logLoss(labels, probabilities),
  };
}
