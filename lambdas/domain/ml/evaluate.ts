import type { Metrics } from '../../contracts/pipeline.js';
import { EvaluationError } from '../errors.js';
import { type LoadedModel, predictProba } from './artifact.js';
import { binaryTarget, parseCsv } from './dataset.js';
import { type ConfusionMatrix, classificationMetrics, confusionMatrix } from './metrics.js';

export interface EvaluationReport {
  readonly metrics: Metrics;
  readonly rows: number;
  readonly positives: number;
  readonly threshold: number;
  readonly confusion: ConfusionMatrix;
  /** Mean predicted probability next to the observed positive rate: a quick calibration check. */
  readonly meanPrediction: number;
  readonly positiveRate: number;
}

/**
 * Scores a loaded model on held-out rows (CSV with the target column). A holdout with a single
 * class cannot rank anything and is an EvaluationError, as is one without the target column.
 */
export function evaluateModel(model: LoadedModel, holdoutCsv: string): EvaluationReport {
  const { columns, rows } = parseCsv(holdoutCsv, 'holdout set');
  const target = model.artifact.target;
  if (!columns.includes(target)) {
    throw new EvaluationError(
      `holdout set has no target column "${target}" (columns: ${columns.join(', ')})`,
    );
  }
  const labels = binaryTarget(rows, target, 'holdout set');
  const positives = labels.reduce<number>((n, y) => n + y, 0);
  if (positives === 0 || positives === labels.length) {
    throw new EvaluationError(
      `holdout set has only ${positives === 0 ? 'negative (0)' : 'positive (1)'} "${target}" values in its ${labels.length} rows; ` +
        'AUC, precision and recall need both classes: use more data or a larger holdoutFraction',
    );
  }
  const probabilities = rows.map((r) => predictProba(model, r));
  const threshold = model.artifact.threshold;
  return {
    metrics: classificationMetrics(labels, probabilities, threshold),
    rows: rows.length,
    positives,
    threshold,
    confusion: confusionMatrix(labels, probabilities, threshold),
    meanPrediction: probabilities.reduce((a, p) => a + p, 0) / probabilities.length,
    positiveRate: positives / labels.length,
  };
}
