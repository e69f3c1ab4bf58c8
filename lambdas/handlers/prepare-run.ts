import { randomBytes } from 'node:crypto';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { parseS3Uri, S3Objects, s3Uri } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { pipelineStateSchema, type RunInfo } from '../contracts/pipeline.js';
import { datasetsPrefix, runPrefix } from '../contracts/s3-layout.js';
import { ValidationError } from '../domain/errors.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('prepare-run');
const deps = once(() => {
  const env = readEnv(registryEnvSchema);
  return {
    bucket: env[ENV.bucket],
    objects: new S3Objects(createS3Client()),
    store: new RegistryStore(createDocumentClient(), env[ENV.table]),
  };
});

/** Sortable, unique, and valid in a Batch job name: 20261122T233500Z-1a2b3c. */
export function newRunId(now: Date): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/**
 * PrepareRun: validates the execution input, resolves the dataset (the newest object under
 * datasets/<model>/ unless one is named), allocates the run id and records the run.
 */
export const handler = async (event: unknown): Promise<RunInfo> => {
  const input = parseInput(pipelineStateSchema, event, 'execution state');
  const { bucket, objects, store } = deps();

  let datasetUri = input.dataset;
  if (datasetUri) {
    const loc = parseS3Uri(datasetUri);
    if (!(await objects.head(loc))) {
      throw new ValidationError(`dataset ${datasetUri} does not exist; upload it or name another`);
    }
  } else {
    const prefix = datasetsPrefix(input.model);
    const candidates = (await objects.list(bucket, prefix)).filter((o) => o.size > 0 && !o.key.endsWith('/'));
    const newest = candidates.sort(
      (a, b) => b.lastModified.getTime() - a.lastModified.getTime() || (a.key < b.key ? 1 : -1),
    )[0];
    if (!newest) {
      throw new ValidationError(
        `no dataset under ${s3Uri(bucket, prefix)}; upload one there or start the pipeline with a dataset URI`,
      );
    }
    datasetUri = s3Uri(bucket, newest.key);
  }

  const now = new Date();
  const runId = newRunId(now);
  const run: RunInfo = {
    runId,
    datasetUri,
    outputUri: s3Uri(bucket, runPrefix(input.model, runId)),
    hyperparametersJson: JSON.stringify(input.training.hyperparameters),
    excludeCsv: input.training.exclude.join(','),
    holdoutFraction: String(input.training.holdoutFraction),
    startedAt: now.toISOString(),
  };
  await store.putRun({
    model: input.model,
    runId,
    stage: input.stage,
    status: 'training',
    trigger: input.trigger,
    executionArn: input.execution.arn,
    requestedBy: input.requestedBy,
    reason: input.reason,
    datasetUri,
    hyperparameters: input.training.hyperparameters,
    startedAt: run.startedAt,
  });
  logger.info('run prepared', { model: input.model, runId, datasetUri });
  return run;
};
