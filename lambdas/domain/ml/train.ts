import { DataError } from '../errors.js';
import { MODEL_FORMAT, type ModelArtifact } from './artifact.js';
import { binaryTarget, parseCsv, splitHoldout } from './dataset.js';
import { encode, fitFeatures } from './features.js';
import type { Hyperparameters } from './hyperparameters.js';
import { type EpochReport, fitLogisticRegression } from './logistic-regression.js';

/** Fewer rows than this cannot give both a training split and a meaningful holdout. */
export const MIN_TRAINING_ROWS = 20;

export interface TrainOptions {
  readonly model: string;
  readonly target: string;
  readonly exclude: readonly string[];
  readonly holdoutFraction: number;
  readonly hyperparameters: Hyperparameters;
  readonly onEpoch?: (report: EpochReport) => void;
  /** Hears about data that trains but probably not as intended (unknown excludes, id-like columns). */
  readonly onWarning?: (message: string) => void;
  /** Clock for the artifact's trainedAt (tests pin it). */
  readonly now?: () => Date;
}

export interface TrainOutcome {
  readonly artifact: ModelArtifact;
  readonly epochs: EpochReport[];
  readonly trainRows: number;
  readonly holdoutRows: number;
  /** The held-out rows as read (every column), and their labels. */
  readonly holdoutCsvRows: Record<string, string>[];
  readonly holdoutLabels: (0 | 1)[];
  readonly columns: string[];
  readonly featureColumns: string[];
}

/**
 * Trains the reference model on a CSV dataset: the split, preprocessing and fit, all seeded
 * from hyperparameters.seed. Pure: the trainer container does the I/O around it.
 */
export function trainOnCsv(csv: string, options: TrainOptions): TrainOutcome {
  const { columns, rows } = parseCsv(csv, 'dataset');
  const { target } = options;
  if (!columns.includes(target)) {
    throw new DataError(
      `dataset has no target column "${target}" (columns: ${columns.join(', ')}); fix the data or models.<model>.target`,
    );
  }
  if (options.exclude.includes(target)) {
    throw new DataError(
      `target "${target}" is also listed in exclude; remove it from models.<model>.exclude`,
    );
  }
  const unknownExcludes = options.exclude.filter((c) => !columns.includes(c));
  if (unknownExcludes.length) {
    options.onWarning?.(`exclude lists columns the dataset does not have: ${unknownExcludes.join(', ')}`);
  }
  const labels = binaryTarget(rows, target, 'dataset');
  if (rows.length < MIN_TRAINING_ROWS) {
    throw new DataError(`dataset has ${rows.length} rows; at least ${MIN_TRAINING_ROWS} are needed to train`);
  }
  const featureColumns = columns.filter((c) => c !== target && !options.exclude.includes(c));
  if (!featureColumns.length) {
    throw new DataError(
      `dataset has no feature columns besides the target "${target}" and the excluded ones`,
    );
  }
  const labelled = rows.map((row, i) => ({ row, y: labels[i] as 0 | 1 }));
  const { train, holdout } = splitHoldout(labelled, options.holdoutFraction, options.hyperparameters.seed);
  return fitSplit(columns, featureColumns, train, holdout, options);
}

type Labelled = { readonly row: Record<string, string>; readonly y: 0 | 1 };

/** Preprocessing and fit on a split already made; the holdout (may be empty) is scored per epoch. */
function fitSplit(
  columns: string[],
  featureColumns: string[],
  train: readonly Labelled[],
  holdout: readonly Labelled[],
  options: Omit<TrainOptions, 'exclude' | 'holdoutFraction'>,
): TrainOutcome {
  const { target } = options;
  const trainPositives = train.reduce((n, r) => n + r.y, 0);
  if (trainPositives === 0 || trainPositives === train.length) {
    throw new DataError(
      `target "${target}" is ${trainPositives ? 1 : 0} on every one of the ${train.length} training rows; a classifier needs both classes`,
    );
  }
  const features = fitFeatures(
    train.map((r) => r.row),
    featureColumns,
    options.onWarning,
  );
  const fitted = fitLogisticRegression(
    { xs: train.map((r) => encode(features, r.row)), ys: train.map((r) => r.y) },
    options.hyperparameters,
    { xs: holdout.map((r) => encode(features, r.row)), ys: holdout.map((r) => r.y) },
    options.onEpoch,
  );
  return {
    artifact: {
      format: MODEL_FORMAT,
      model: options.model,
      target,
      features: features.map((f) => (f.kind === 'categorical' ? { ...f, categories: [...f.categories] } : f)),
      weights: fitted.weights,
      bias: fitted.bias,
      threshold: 0.5,
      trainedAt: (options.now?.() ?? new Date()).toISOString(),
    },
    epochs: fitted.epochs,
    trainRows: train.length,
    holdoutRows: holdout.length,
    holdoutCsvRows: holdout.map((r) => r.row),
    holdoutLabels: holdout.map((r) => r.y),
    columns,
    featureColumns,
  };
}

/**
 * Trains on a split the platform made (trainer contract v1): every column of the training CSV
 * but the target is a feature (the platform already dropped the excluded ones), and the
 * validation CSV, when there is one, is scored after every epoch in place of a holdout (its
 * rows come back as `holdoutCsvRows`). A missing target, a non-binary label or too few rows
 * is a DataError naming the file, the row and the value.
 */
export function trainOnSplit(
  trainCsv: string,
  validationCsv: string | undefined,
  options: Omit<TrainOptions, 'exclude' | 'holdoutFraction'>,
): TrainOutcome {
  const { target } = options;
  const read = (csv: string, what: string) => {
    const { columns, rows } = parseCsv(csv, what);
    if (!columns.includes(target)) {
      throw new DataError(`${what} has no target column "${target}" (columns: ${columns.join(', ')})`);
    }
    const labels = binaryTarget(rows, target, what);
    return { columns, labelled: rows.map((row, i) => ({ row, y: labels[i] as 0 | 1 })) };
  };
  const train = read(trainCsv, 'MLCYCLE_TRAIN');
  if (train.labelled.length < MIN_TRAINING_ROWS) {
    throw new DataError(
      `MLCYCLE_TRAIN has ${train.labelled.length} rows; at least ${MIN_TRAINING_ROWS} are needed to train`,
    );
  }
  const featureColumns = train.columns.filter((c) => c !== target);
  if (!featureColumns.length)
    throw new DataError(`MLCYCLE_TRAIN has no feature columns besides the target "${target}"`);
  const validation = validationCsv === undefined ? [] : read(validationCsv, 'MLCYCLE_VALIDATION').labelled;
  return fitSplit(train.columns, featureColumns, train.labelled, validation, options);
}
