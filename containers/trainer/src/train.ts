import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACT_ENV, TRAINER_OUTPUT } from '../../../lambdas/contracts/trainer.js';
import { loadModel, predictProba, serializeModel } from '../../../lambdas/domain/ml/artifact.js';
import { parseHyperparameters } from '../../../lambdas/domain/ml/hyperparameters.js';
import type { EpochReport } from '../../../lambdas/domain/ml/logistic-regression.js';
import { classificationMetrics } from '../../../lambdas/domain/ml/metrics.js';
import { trainOnSplit } from '../../../lambdas/domain/ml/train.js';
import { FRAMEWORK, fail, requireEnv } from './contract.js';

/**
 * Train entry of the reference trainer under contract v1 (docs/trainer-contract.md): reads
 * MLCYCLE_TRAIN (and MLCYCLE_VALIDATION when set), fits the seeded logistic regression of
 * lambdas/domain/ml, and writes model/model.json, metrics.jsonl (one line per epoch),
 * model-card.json and, with a validation set, reported-metrics.json. It finishes in seconds, so
 * it ignores MLCYCLE_CHECKPOINT_DIR and starts again on a retry.
 */
function main(): void {
  const task = requireEnv(CONTRACT_ENV.task);
  if (task !== 'binary') fail(`task ${task} is not supported: this trainer does binary`);
  const target = requireEnv(CONTRACT_ENV.target);
  const outputDir = requireEnv(CONTRACT_ENV.outputDir);
  const hyperparametersText = requireEnv(CONTRACT_ENV.hyperparameters);
  let raw: unknown;
  try {
    raw = JSON.parse(hyperparametersText);
  } catch {
    fail(`${CONTRACT_ENV.hyperparameters} is not JSON: ${JSON.stringify(hyperparametersText.slice(0, 80))}`);
  }
  const hyperparameters = parseHyperparameters(raw);
  const validationPath = process.env[CONTRACT_ENV.validation] ?? '';
  const read = (path: string) => readFileSync(path, 'utf8');

  const epochs: EpochReport[] = [];
  const outcome = trainOnSplit(
    read(requireEnv(CONTRACT_ENV.train)),
    validationPath ? read(validationPath) : undefined,
    {
      model: process.env[CONTRACT_ENV.model] ?? 'model',
      target,
      hyperparameters,
      onEpoch: (report) => {
        epochs.push(report);
        console.log(JSON.stringify({ event: 'epoch', ...report }));
      },
      onWarning: (message) => console.log(JSON.stringify({ event: 'warning', message })),
    },
  );

  mkdirSync(join(outputDir, TRAINER_OUTPUT.modelDir), { recursive: true });
  writeFileSync(join(outputDir, TRAINER_OUTPUT.modelDir, 'model.json'), serializeModel(outcome.artifact));
  // The domain reports its scored split as "holdout"; here that split is the validation set.
  const lines = epochs.map((e) => ({
    epoch: e.epoch,
    trainLoss: e.trainLoss,
    ...(e.holdoutLoss === null ? {} : { validationLoss: e.holdoutLoss }),
    ...(e.holdoutAuc === null ? {} : { validationAuc: e.holdoutAuc }),
    learningRate: e.learningRate,
  }));
  writeFileSync(join(outputDir, TRAINER_OUTPUT.metrics), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));

  // Reported (never gated on): the validation set scored by the artifact as written.
  const validation = outcome.holdoutLabels;
  if (validation.includes(0) && validation.includes(1)) {
    const model = loadModel(serializeModel(outcome.artifact));
    const m = classificationMetrics(
      validation,
      outcome.holdoutCsvRows.map((row) => predictProba(model, row)),
    );
    const reported = { validationAuc: m.auc, validationLogLoss: m.logLoss, validationAccuracy: m.accuracy };
    writeFileSync(join(outputDir, TRAINER_OUTPUT.reportedMetrics), `${JSON.stringify(reported)}\n`);
  }

  const card = {
    framework: `${FRAMEWORK.name} ${FRAMEWORK.version}`,
    algorithm:
      'L2-regularised logistic regression, seeded mini-batch Adam; numeric columns standardised with ' +
      'mean imputation and a missing indicator, other columns one-hot over their most frequent values',
    features: outcome.artifact.features.map((f) => ({ name: f.name, kind: f.kind })),
    intendedUse: 'binary classification of tabular rows (the reference trainer of mlcycle)',
    limitations: ['linear in the encoded features: no interactions unless the data has them as columns'],
    training: {
      // The commit the platform says this image was built from: the registry's lineage reads it here.
      codeVersion: process.env[CONTRACT_ENV.codeVersion] || 'unknown',
      trainRows: outcome.trainRows,
      validationRows: outcome.holdoutRows,
      epochs: epochs.length,
      finalTrainLoss: epochs.at(-1)?.trainLoss ?? null,
      hyperparameters,
    },
  };
  writeFileSync(join(outputDir, TRAINER_OUTPUT.modelCard), `${JSON.stringify(card, null, 1)}\n`);
  console.log(
    JSON.stringify({ event: 'done', trainRows: outcome.trainRows, validationRows: outcome.holdoutRows }),
  );
}

try {
  main();
} catch (err) {
  fail(err);
}
