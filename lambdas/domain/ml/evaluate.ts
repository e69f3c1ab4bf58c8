import type { Metrics } from '../../contracts/pipeline.js';
import { EvaluationError } from '../errors.js';
import { type LoadedModel, predictProba } from './artifact.js';
import { binaryTarget, parseCsv } from './dataset.js';
import { classificationMetrics } from './metrics.js';

/** Scores a loaded model on held-out rows (CSV with the target column). */
export function evaluateModel(model: LoadedModel, holdoutCsv: string): { metrics: Metrics; rows: number } {
  const { columns, rows } = parseCsv(holdoutCsv, 'holdout set');
  const target = model.artifact.target;
  if (!columns.includes(target)) throw new EvaluationError(`holdout set has no target column "${target}"`);
  const labels = binaryTarget(rows, target, 'holdout set');
  const probabilities = rows.map((r) => predictProba(model, r));
  return {
    metrics: classificationMetrics(labels, probabilities, model.artifact.threshold),
    rows: rows.length,
  };
}
