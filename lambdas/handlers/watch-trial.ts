import { BatchClient } from '@aws-sdk/client-batch';
import type { S3Event } from 'aws-lambda';
import { z } from 'zod';
import { createDocumentClient, createS3Client, withTransientErrors } from '../adapters/aws-clients.js';
import { BatchJobControl } from '../adapters/pipeline/job-control.js';
import { Registry } from '../adapters/registry/registry.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { type WatchTrialDeps, watchTrialProgress } from '../services/sweeps/watch-trial.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, readEnv } from './kit/runtime.js';
import { uploadedObjects } from './kit/s3-event.js';

const logger = createLogger('watch-trial');

const envSchema = registryEnvSchema.extend({ [ENV.jobQueue]: z.string().min(1) });

/**
 * S3 ObjectCreated of runs/<model>/<runId>/progress/metrics.jsonl: a sweep trial's training
 * progress, held to its early-stopping rule while it trains; a weak trial's job is terminated.
 */
export function makeWatchTrialHandler(deps: () => WatchTrialDeps) {
  return lambdaHandler(logger, correlationIds.s3, async (event: S3Event) => {
    const results = [];
    for (const o of uploadedObjects(event)) {
      const result = await watchTrialProgress(deps(), o.key);
      logger.info(`trial progress: ${result.outcome}`, { key: o.key, ...result });
      results.push({ key: o.key, ...result });
    }
    return results;
  });
}

export const handler = makeWatchTrialHandler(
  once((): WatchTrialDeps => {
    const env = readEnv(envSchema);
    return {
      bucket: env[ENV.bucket],
      objects: new S3Objects(createS3Client()),
      registry: new Registry(createDocumentClient(), env[ENV.table]),
      jobs: new BatchJobControl(withTransientErrors(new BatchClient({})), env[ENV.jobQueue]),
    };
  }),
);
