import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { childUri, parseS3Uri, S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { TRAINER_ENV } from '../../../lambdas/contracts/env.js';
import { loadModel, predictProba, serializeModel } from '../../../lambdas/domain/ml/artifact.js';
import { toCsv } from '../../../lambdas/domain/ml/dataset.js';
import { parseHyperparameters } from '../../../lambdas/domain/ml/hyperparameters.js';
import { classificationMetrics } from '../../../lambdas/domain/ml/metrics.js';
import { buildModelCard, modelCardMarkdown } from '../../../lambdas/domain/ml/model-card.js';
import { trainOnCsv } from '../../../lambdas/domain/ml/train.js';
import { type TrainingSummary, trainingSummarySchema } from '../../../lambdas/domain/ml/training-summary.js';

export const FRAMEWORK = { name: 'mlcycle-logreg', version: '1.0.0' } as const;

/** The container's environment contract (TRAINER_ENV), as the Batch job and the local runner set it. */
export const trainerEnvSchema = z.object({
  [TRAINER_ENV.model]: z.string().min(1),
  [TRAINER_ENV.runId]: z.string().min(1),
  [TRAINER_ENV.datasetUri]: z.string().startsWith('s3://'),
  [TRAINER_ENV.outputUri]: z.string().startsWith('s3://'),
  [TRAINER_ENV.hyperparameters]: z.string().default('{}'),
  [TRAINER_ENV.target]: z.string().min(1),
  [TRAINER_ENV.codeVersion]: z.string().default('unknown'),
  [TRAINER_ENV.exclude]: z.string().default(''),
  [TRAINER_ENV.holdoutFraction]: z.coerce.number().gt(0).lt(0.9).default(0.2),
});
export type TrainerEnv = z.infer<typeof trainerEnvSchema>;

/**
 * One training run: read the dataset from S3, train, and write the model (with its sha256),
 * per-epoch metrics, the held-out rows, a model card and — last — the summary.
 */
export async function runTraining(
  env: TrainerEnv,
  deps: { s3: S3Client; log?: (line: string) => void },
): Promise<TrainingSummary> {
  const log = deps.log ?? (() => undefined);
  const objects = new S3Objects(deps.s3);
  const startedAt = new Date().toISOString();
  const model = env[TRAINER_ENV.model];
  const outputUri = env[TRAINER_ENV.outputUri];
  const out = (name: string) => parseS3Uri(childUri(outputUri, name));
  let rawHyperparameters: unknown;
  try {
    rawHyperparameters = JSON.parse(env[TRAINER_ENV.hyperparameters]);
  } catch {
    throw new Error(
      `${TRAINER_ENV.hyperparameters} is not JSON: ${env[TRAINER_ENV.hyperparameters].slice(0, 80)}`,
    );
  }
  const hyperparameters = parseHyperparameters(rawHyperparameters);

  const datasetBytes = await objects.getBytes(parseS3Uri(env[TRAINER_ENV.datasetUri]));
  const datasetSha256 = createHash('sha256').update(datasetBytes).digest('hex');
  log(JSON.stringify({ event: 'dataset', uri: env[TRAINER_ENV.datasetUri], bytes: datasetBytes.length }));

  const metricsLines: string[] = [];
  const outcome = trainOnCsv(datasetBytes.toString('utf8'), {
    model,
    target: env[TRAINER_ENV.target],
    exclude: env[TRAINER_ENV.exclude]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    holdoutFraction: env[TRAINER_ENV.holdoutFraction],
    hyperparameters,
    onEpoch: (r) => {
      const line = JSON.stringify(r);
      metricsLines.push(line);
      log(line);
    },
  });

  const modelText = serializeModel(outcome.artifact);
  const sha256 = createHash('sha256').update(modelText).digest('hex');
  const artifactUri = childUri(outputUri, 'model.json');
  await objects.put(out('model.json'), modelText, 'application/json');
  await objects.put(out('model.sha256'), `${sha256}  model.json\n`, 'text/plain');
  await objects.put(out('metrics.jsonl'), `${metricsLines.join('\n')}\n`, 'application/x-ndjson');
  await objects.put(out('holdout.csv'), toCsv(outcome.columns, outcome.holdoutCsvRows), 'text/csv');

  const summary = trainingSummarySchema.parse({
    model,
    runId: env[TRAINER_ENV.runId],
    artifactUri,
    sha256,
    framework: FRAMEWORK.name,
    frameworkVersion: FRAMEWORK.version,
    target: outcome.artifact.target,
    features: outcome.artifact.features.map((f) => ({ name: f.name, kind: f.kind })),
    trainRows: outcome.trainRows,
    holdoutRows: outcome.holdoutRows,
    hyperparameters,
    datasetUri: env[TRAINER_ENV.datasetUri],
    datasetSha256,
    codeVersion: env[TRAINER_ENV.codeVersion],
    epochs: outcome.epochs.length,
    startedAt,
    finishedAt: new Date().toISOString(),
    finalTrainLoss: outcome.epochs.at(-1)?.trainLoss ?? Number.NaN,
  });
  const loaded = loadModel(modelText);
  const holdoutMetrics = classificationMetrics(
    outcome.holdoutCsvRows.map((r) => Number(r[outcome.artifact.target])),
    outcome.holdoutCsvRows.map((r) => predictProba(loaded, r)),
  );
  const card = buildModelCard(summary, outcome.artifact, holdoutMetrics, '');
  await objects.putJson(out('model-card.json'), card);
  await objects.put(out('model-card.md'), modelCardMarkdown(card), 'text/markdown');
  await objects.putJson(out('training-summary.json'), summary);
  log(JSON.stringify({ event: 'done', artifactUri, sha256, holdoutAuc: holdoutMetrics.auc }));
  return summary;
}
