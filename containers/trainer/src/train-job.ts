import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { childUri, parseS3Uri, S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { TRAINER_ENV } from '../../../lambdas/contracts/env.js';
import type { Metrics } from '../../../lambdas/contracts/pipeline.js';
import { describeZodError } from '../../../lambdas/contracts/zod-errors.js';
import { ValidationError } from '../../../lambdas/domain/errors.js';
import { loadModel, predictProba, serializeModel } from '../../../lambdas/domain/ml/artifact.js';
import { toCsv } from '../../../lambdas/domain/ml/dataset.js';
import { parseHyperparameters } from '../../../lambdas/domain/ml/hyperparameters.js';
import { classificationMetrics } from '../../../lambdas/domain/ml/metrics.js';
import { buildModelCard, modelCardMarkdown } from '../../../lambdas/domain/ml/model-card.js';
import { trainOnCsv } from '../../../lambdas/domain/ml/train.js';
import { type TrainingSummary, trainingSummarySchema } from '../../../lambdas/domain/ml/training-summary.js';

export { type TrainingSummary, trainingSummarySchema };

export const FRAMEWORK = { name: 'mlcycle-logreg', version: '1.1.0' } as const;

/** Every file a successful run writes under MLCYCLE_OUTPUT_URI, training-summary.json last. */
export const TRAINER_OUTPUTS = [
  'model.json',
  'model.sha256',
  'metrics.jsonl',
  'holdout.csv',
  'model-card.json',
  'model-card.md',
  'training-summary.json',
] as const;

const s3PrefixUri = z.string().regex(/^s3:\/\/[^/]+\/.+/, 'must be an s3://bucket/prefix URI');

/** The container's environment contract (TRAINER_ENV), as the Batch job and the local runner set it. */
export const trainerEnvSchema = z.object({
  [TRAINER_ENV.model]: z.string().min(1),
  [TRAINER_ENV.runId]: z.string().min(1),
  [TRAINER_ENV.datasetUri]: s3PrefixUri,
  [TRAINER_ENV.outputUri]: s3PrefixUri,
  /** JSON object; validated against the trainer's hyperparameter schema. */
  [TRAINER_ENV.hyperparameters]: z.string().default('{}'),
  [TRAINER_ENV.target]: z.string().min(1),
  [TRAINER_ENV.codeVersion]: z.string().min(1).default('unknown'),
  /** Comma-separated columns to drop (ids, timestamps). */
  [TRAINER_ENV.exclude]: z.string().default(''),
  [TRAINER_ENV.holdoutFraction]: z.coerce.number().gt(0).lt(0.9).default(0.2),
});
export type TrainerEnv = z.infer<typeof trainerEnvSchema>;

/** Validates the container environment; the error names every bad variable. */
export function parseTrainerEnv(env: NodeJS.ProcessEnv): TrainerEnv {
  const result = trainerEnvSchema.safeParse(env, { reportInput: true });
  if (!result.success) throw new ValidationError(describeZodError(result.error, 'environment'));
  return result.data;
}

function parseHyperparametersJson(text: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ValidationError(
      `${TRAINER_ENV.hyperparameters} is not JSON: ${JSON.stringify(text.slice(0, 80))}; pass an object such as {"epochs": 40}`,
    );
  }
  return parseHyperparameters(raw);
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * One training run: read the dataset from S3, train, and write the model (with its sha256),
 * per-epoch metrics, the held-out rows, a model card and — last — the summary, whose presence
 * means the other outputs are complete. Progress goes to `log` as JSON lines.
 */
export async function runTraining(
  env: TrainerEnv,
  deps: { s3: S3Client; log?: (line: string) => void; now?: () => Date },
): Promise<TrainingSummary> {
  const emit = (event: string, fields: Record<string, unknown>) =>
    deps.log?.(JSON.stringify({ event, ...fields }));
  const now = deps.now ?? (() => new Date());
  const objects = new S3Objects(deps.s3);
  const startedAt = now().toISOString();
  const model = env[TRAINER_ENV.model];
  const outputUri = env[TRAINER_ENV.outputUri];
  const datasetUri = env[TRAINER_ENV.datasetUri];
  const out = (name: (typeof TRAINER_OUTPUTS)[number]) => parseS3Uri(childUri(outputUri, name));
  // Bad hyperparameters fail before any download.
  const hyperparameters = parseHyperparametersJson(env[TRAINER_ENV.hyperparameters]);
  emit('start', { model, runId: env[TRAINER_ENV.runId], hyperparameters });

  const datasetBytes = await objects.getBytes(parseS3Uri(datasetUri));
  const datasetSha256 = sha256Hex(datasetBytes);
  emit('dataset', { uri: datasetUri, bytes: datasetBytes.length, sha256: datasetSha256 });

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
    now,
    onEpoch: (report) => {
      metricsLines.push(JSON.stringify(report));
      emit('epoch', { ...report });
    },
    onWarning: (message) => emit('warning', { message }),
  });

  const modelText = serializeModel(outcome.artifact);
  const sha256 = sha256Hex(modelText);
  const artifactUri = childUri(outputUri, 'model.json');
  // Score the serialised artifact, not the in-memory one: what Evaluate and Deploy will load.
  const loaded = loadModel(modelText);
  const holdoutMetrics = metricsOrEmpty(
    outcome.holdoutLabels,
    outcome.holdoutCsvRows.map((r) => predictProba(loaded, r)),
    emit,
  );

  await objects.put(out('model.json'), modelText, 'application/json');
  await objects.put(out('model.sha256'), `${sha256}\n`, 'text/plain');
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
    datasetUri,
    datasetSha256,
    codeVersion: env[TRAINER_ENV.codeVersion],
    epochs: outcome.epochs.length,
    startedAt,
    finishedAt: now().toISOString(),
    finalTrainLoss: outcome.epochs.at(-1)?.trainLoss ?? Number.NaN,
  });
  const card = buildModelCard(summary, outcome.artifact, holdoutMetrics);
  await objects.putJson(out('model-card.json'), card);
  await objects.put(out('model-card.md'), modelCardMarkdown(card), 'text/markdown');
  await objects.putJson(out('training-summary.json'), summary);
  emit('done', { artifactUri, sha256, holdoutAuc: holdoutMetrics.auc ?? null });
  return summary;
}

/**
 * The model card's holdout metrics. A single-class holdout has none; training still succeeds
 * and the Evaluate step fails it with an EvaluationError that says so.
 */
function metricsOrEmpty(
  labels: readonly number[],
  probabilities: readonly number[],
  emit: (event: string, fields: Record<string, unknown>) => void,
): Partial<Metrics> {
  if (labels.includes(0) && labels.includes(1)) return classificationMetrics(labels, probabilities);
  emit('warning', { message: 'the holdout has a single class; no holdout metrics in the model card' });
  return {};
}
