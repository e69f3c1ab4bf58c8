import type { Metrics } from '../../contracts/pipeline.js';

/**
 * Model performance on a labelled batch, in bounded memory: a confusion matrix at 0.5, the sum
 * of log loss, and predictions binned per label (1,000 bins) for AUC. Binning ranks ties within
 * a bin as ties, which moves AUC by well under 0.001 for probability scores.
 */
export interface PerformanceState {
  bins: number;
  positives: number[];
  negatives: number[];
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  logLossSum: number;
  rows: number;
  skipped: number;
}

export function newPerformance(bins = 1000): PerformanceState {
  return {
    bins,
    positives: new Array(bins).fill(0),
    negatives: new Array(bins).fill(0),
    tp: 0,
    fp: 0,
    tn: 0,
    fn: 0,
    logLossSum: 0,
    rows: 0,
    skipped: 0,
  };
}

export function addPrediction(s: PerformanceState, label: number, p: number): void {
  if (!(label === 0 || label === 1) || !(p >= 0 && p <= 1)) {
    s.skipped++;
    return;
  }
  s.rows++;
  const bin = Math.min(s.bins - 1, Math.floor(p * s.bins));
  if (label === 1) {
    s.positives[bin] = (s.positives[bin] as number) + 1;
    if (p >= 0.5) s.tp++;
    else s.fn++;
  } else {
    s.negatives[bin] = (s.negatives[bin] as number) + 1;
    if (p >= 0.5) s.fp++;
    else s.tn++;
  }
  const eps = 1e-15;
  const q = Math.min(1 - eps, Math.max(eps, p));
  s.logLossSum -= label === 1 ? Math.log(q) : Math.log(1 - q);
}

export function mergePerformance(a: PerformanceState, b: PerformanceState): PerformanceState {
  return {
    bins: a.bins,
    positives: a.positives.map((v, i) => v + (b.positives[i] ?? 0)),
    negatives: a.negatives.map((v, i) => v + (b.negatives[i] ?? 0)),
    tp: a.tp + b.tp,
    fp: a.fp + b.fp,
    tn: a.tn + b.tn,
    fn: a.fn + b.fn,
    logLossSum: a.logLossSum + b.logLossSum,
    rows: a.rows + b.rows,
    skipped: a.skipped + b.skipped,
  };
}

export function performanceMetrics(s: PerformanceState): Metrics | null {
  const pos = s.tp + s.fn;
  const neg = s.fp + s.tn;
  if (!pos || !neg) return null;
  // AUC = P(score of a positive > score of a negative), ties counted half.
  let negativesBelow = 0;
  let wins = 0;
  for (let b = 0; b < s.bins; b++) {
    const p = s.positives[b] as number;
    const n = s.negatives[b] as number;
    wins += p * (negativesBelow + n / 2);
    negativesBelow += n;
  }
  const precision = s.tp + s.fp ? s.tp / (s.tp + s.fp) : 0;
  const recall = s.tp / pos;
  return {
    auc: wins / (pos * neg),
    accuracy: (s.tp + s.tn) / s.rows,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    logLoss: s.logLossSum / s.rows,
  };
}
