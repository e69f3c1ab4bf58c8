import { DataError } from '../errors.js';
import type { ModelArtifact } from './artifact.js';
import { MODEL_FORMAT } from './artifact.js';
import { binaryTarget, parseCsv, splitHoldout } from './dataset.js';
import { encode, fitFeatures } from './features.js';
import type { Hyperparameters } from './hyperparameters.js';
import { type EpochReport, fitLogisticRegression } from './logistic-regression.js';

export interface TrainOutcome {
  readonly artifact: ModelArtifact;
  readonly epochs: EpochReport[];
  readonly trainRows: number;
  readonly holdoutRows: number;
  readonly holdoutCsvRows: Record<string, string>[];
  readonly columns: string[];
  readonly featureColumns: string[];
}

/**
 * Trains the reference model on a CSV dataset: the split, preprocessing and fit, all seeded.
 * Pure: the trainer container does the I/O around it.
 */
export function trainOnCsv(
  csv: string,
  options: {
    model: string;
    target: string;
    exclude: readonly string[];
    holdoutFraction: number;
    hyperparameters: Hyperparameters;
    onEpoch?: (report: EpochReport) => void;
  },
): TrainOutcome {
  const { columns, rows } = parseCsv(csv, 'dataset');
  if (!columns.includes(options.target)) {
    throw new DataError(
      `dataset has no target column "${options.target}" (columns: ${columns.join(', ')}); fix the data or models.<model>.target`,
    );
  }
  const labels = binaryTarget(rows, options.target, 'dataset');
  if (rows.length < 20)
    throw new DataError(`dataset has ${rows.length} rows; at least 20 are needed to train`);
  const featureColumns = columns.filter((c) => c !== options.target && !options.exclude.includes(c));
  if (!featureColumns.length) throw new DataError('dataset has no feature columns besides the target');
  const indexed = rows.map((row, i) => ({ row, y: labels[i] as number }));
  const { train, holdout } = splitHoldout(indexed, options.holdoutFraction, options.hyperparameters.seed);
  if (new Set(train.map((r) => r.y)).size < 2) {
    throw new DataError(
      `target "${options.target}" has a single class in the training split; nothing to learn`,
    );
  }
  const features = fitFeatures(
    train.map((r) => r.row),
    featureColumns,
  );
  const fitted = fitLogisticRegression(
    train.map((r) => encode(features, r.row)),
    train.map((r) => r.y),
    options.hyperparameters,
    { xs: holdout.map((r) => encode(features, r.row)), ys: holdout.map((r) => r.y) },
    options.onEpoch,
  );
  return {
    artifact: {
      format: MODEL_FORMAT,
      model: options.model,
      target: options.target,
      features: features.map((f) => (f.kind === 'categorical' ? { ...f, categories: [...f.categories] } : f)),
      weights: fitted.weights,
      bias: fitted.bias,
      threshold: 0.5,
      trainedAt: new Date().toISOString(),
    },
    epochs: fitted.epochs,
    trainRows: train.length,
    holdoutRows: holdout.length,
    holdoutCsvRows: holdout.map((r) => r.row),
    columns,
    featureColumns,
  };
}
