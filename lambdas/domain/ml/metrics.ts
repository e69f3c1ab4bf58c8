import type { Metrics } from '../../contracts/pipeline.js';
import { EvaluationError } from '../errors.js';

/**
 * ROC AUC by the rank-sum (Mann–Whitney) formula, with tied scores given their average rank.
 */
export function auc(labels: readonly number[], scores: readonly number[]): number {
  const n = labels.length;
  const order = [...Array(n).keys()].sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k] as number] === 1) {
        positives++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    throw new EvaluationError(
      `AUC needs both classes; the evaluation set has ${positives} positive and ${negatives} negative rows`,
    );
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean binary cross-entropy, with probabilities clipped away from 0 and 1. */
export function logLoss(labels: readonly number[], probabilities: readonly number[]): number {
  const eps = 1e-15;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - eps, Math.max(eps, probabilities[i] as number));
    total -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return total / labels.length;
}

/** Every metric a gate can name, at the given decision threshold. */
export function classificationMetrics(
  labels: readonly number[],
  probabilities: readonly number[],
  threshold = 0.5,
): Metrics {
  if (labels.length !== probabilities.length)
    throw new EvaluationError('labels and predictions differ in length');
  if (!labels.length) throw new EvaluationError('the evaluation set is empty');
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = (probabilities[i] as number) >= threshold ? 1 : 0;
    if (predicted === 1 && labels[i] === 1) tp++;
    else if (predicted === 1) fp++;
    else if (labels[i] === 1) fn++;
    else tn++;
  }
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
