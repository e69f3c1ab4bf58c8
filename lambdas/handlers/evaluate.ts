import { createHash } from 'node:crypto';
import { createS3Client } from '../adapters/aws-clients.js';
import { childUri, parseS3Uri, S3Objects } from '../adapters/s3-objects.js';
import type { EvaluationResult } from '../contracts/pipeline.js';
import { ArtifactValidationError } from '../domain/errors.js';
import { loadModel } from '../domain/ml/artifact.js';
import { evaluateModel } from '../domain/ml/evaluate.js';
import { trainingSummarySchema } from '../domain/ml/training-summary.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';
import { preparedStateSchema } from './kit/state.js';

const logger = createLogger('evaluate');
const deps = once(() => {
  readEnv(registryEnvSchema);
  return { objects: new S3Objects(createS3Client()) };
});

/**
 * Evaluate: loads the trained artifact (refusing one whose sha256 differs from what the trainer
 * recorded), scores the held-out rows and records evaluation.json next to the model.
 */
export const handler = async (event: unknown): Promise<EvaluationResult> => {
  const state = parseInput(preparedStateSchema, event, 'Evaluate input');
  const { objects } = deps();
  const at = (name: string) => childUri(state.run.outputUri, name);
  const summary = parseInput(
    trainingSummarySchema,
    await objects.getJson(parseS3Uri(at('training-summary.json'))),
    'training-summary.json',
  );
  const modelText = await objects.getBytes(parseS3Uri(summary.artifactUri));
  const sha256 = createHash('sha256').update(modelText).digest('hex');
  if (sha256 !== summary.sha256) {
    throw new ArtifactValidationError(
      `${summary.artifactUri} has sha256 ${sha256} but the trainer recorded ${summary.sha256}; the artifact changed after training`,
    );
  }
  const model = loadModel(modelText.toString('utf8'));
  const { metrics, rows } = evaluateModel(model, await objects.getText(parseS3Uri(at('holdout.csv'))));
  const result: EvaluationResult = {
    metrics,
    holdoutRows: rows,
    artifact: { uri: summary.artifactUri, sha256 },
    modelCardUri: at('model-card.json'),
    evaluationUri: at('evaluation.json'),
  };
  await objects.putJson(parseS3Uri(result.evaluationUri), {
    ...result,
    evaluatedAt: new Date().toISOString(),
  });
  logger.info('evaluated', { model: state.model, runId: state.run.runId, auc: metrics.auc });
  return result;
};
