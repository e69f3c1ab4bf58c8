import { createHash } from 'node:crypto';
import { createS3Client } from '../adapters/aws-clients.js';
import { childUri, parseS3Uri, S3Objects } from '../adapters/s3-objects.js';
import { type EvaluationResult, preparedStateSchema } from '../contracts/pipeline.js';
import { ArtifactValidationError } from '../domain/errors.js';
import { loadModel } from '../domain/ml/artifact.js';
import { evaluateModel } from '../domain/ml/evaluate.js';
import { trainingSummarySchema } from '../domain/ml/training-summary.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

export { evaluateModel };

const logger = createLogger('evaluate');
const deps = once(() => {
  readEnv(registryEnvSchema);
  return { objects: new S3Objects(createS3Client()) };
});

/**
 * Evaluate: loads the trained artifact (refusing one whose sha256 differs from what the trainer
 * recorded, or a summary from another run), scores the held-out rows and records
 * evaluation.json next to the model. Returns `$.evaluation`.
 */
export const handler = async (event: unknown): Promise<EvaluationResult> => {
  const state = parseInput(preparedStateSchema, event, 'Evaluate input');
  const { objects } = deps();
  const at = (name: string) => childUri(state.run.outputUri, name);
  const summary = parseInput(
    trainingSummarySchema,
    await objects.getJson(parseS3Uri(at('training-summary.json'))),
    at('training-summary.json'),
  );
  if (summary.model !== state.model || summary.runId !== state.run.runId) {
    throw new ArtifactValidationError(
      `${at('training-summary.json')} is for ${summary.model} run ${summary.runId}, not ${state.model} run ${state.run.runId}`,
    );
  }
  const modelBytes = await objects.getBytes(parseS3Uri(summary.artifactUri));
  const sha256 = createHash('sha256').update(modelBytes).digest('hex');
  if (sha256 !== summary.sha256) {
    throw new ArtifactValidationError(
      `${summary.artifactUri} has sha256 ${sha256} but the trainer recorded ${summary.sha256}; the artifact changed after training: retrain`,
    );
  }
  const model = loadModel(modelBytes.toString('utf8'));
  const report = evaluateModel(model, await objects.getText(parseS3Uri(at('holdout.csv'))));
  const result: EvaluationResult = {
    metrics: report.metrics,
    // The reference trainer reports nothing beside its artifact; the platform measured these.
    reportedMetrics: {},
    holdoutRows: report.rows,
    artifact: { uri: summary.artifactUri, sha256 },
    modelCardUri: at('model-card.json'),
    evaluationUri: at('evaluation.json'),
  };
  await objects.putJson(parseS3Uri(result.evaluationUri), {
    model: state.model,
    runId: state.run.runId,
    ...result,
    positives: report.positives,
    positiveRate: report.positiveRate,
    meanPrediction: report.meanPrediction,
    threshold: report.threshold,
    confusion: report.confusion,
    evaluatedAt: new Date().toISOString(),
  });
  logger.info('evaluated', { model: state.model, runId: state.run.runId, metrics: report.metrics });
  return result;
};
