import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { childUri, parseS3Uri, S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import {
  evaluatedStateSchema,
  evaluationResultSchema,
  metricsSchema,
  type Registration,
} from '../contracts/pipeline.js';
import { trainingSummarySchema } from '../domain/ml/training-summary.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('register');

/** A trained run is registered with every metric the platform measured on its holdout. */
const registerStateSchema = evaluatedStateSchema.extend({
  evaluation: evaluationResultSchema.extend({ metrics: metricsSchema }),
});
const deps = once(() => {
  const env = readEnv(registryEnvSchema);
  return {
    objects: new S3Objects(createS3Client()),
    store: new RegistryStore(createDocumentClient(), env[ENV.table]),
  };
});

/**
 * Register: allocates the next semantic version (or the explicit one asked for) and records it
 * with its metrics and full lineage, status `validating` until the gate and approvals decide.
 */
export const handler = async (event: unknown): Promise<Registration> => {
  const state = parseInput(registerStateSchema, event, 'Register input');
  const { objects, store } = deps();
  const summary = parseInput(
    trainingSummarySchema,
    await objects.getJson(parseS3Uri(childUri(state.run.outputUri, 'training-summary.json'))),
    'training-summary.json',
  );
  // The parent is what serves the target stage now: the version this one would replace.
  const serving = await store.getStage(state.model, state.stage);
  const record = await store.registerVersion({
    model: state.model,
    ...(state.version ? { version: state.version } : { bump: state.bump }),
    metrics: state.evaluation.metrics,
    lineage: {
      parentVersion: serving?.version ?? null,
      datasetUri: state.run.datasetUri,
      datasetSha256: summary.datasetSha256,
      codeVersion: summary.codeVersion,
      runId: state.run.runId,
      hyperparameters: summary.hyperparameters,
      framework: `${summary.framework}@${summary.frameworkVersion}`,
      artifactUri: state.evaluation.artifact.uri,
      artifactSha256: state.evaluation.artifact.sha256,
      author: state.requestedBy,
      modelCardUri: state.evaluation.modelCardUri,
    },
  });
  await store.updateRun(state.model, state.run.runId, {
    status: 'registered',
    version: record.version,
    metrics: state.evaluation.metrics,
  });
  logger.info('version registered', { model: state.model, version: record.version });
  return { version: record.version, parentVersion: serving?.version ?? null };
};
