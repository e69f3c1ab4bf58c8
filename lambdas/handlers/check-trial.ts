import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { Registry } from '../adapters/registry/registry.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { preparedStateSchema } from '../contracts/pipeline.js';
import { type TrialCheck, trialRefSchema } from '../contracts/sweep.js';
import { type CheckTrialDeps, checkTrial } from '../services/sweeps/check-trial.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('check-trial');

const inputSchema = preparedStateSchema.extend({ trial: trialRefSchema });

/** CheckTrial: a sweep trial has trained; its early-stopping rule decides whether it goes on to evaluation. */
export function makeCheckTrialHandler(deps: () => CheckTrialDeps) {
  return lambdaHandler(logger, correlationIds.execution, async (event: unknown): Promise<TrialCheck> => {
    const state = parseInput(inputSchema, event, 'CheckTrial input');
    const decision = await checkTrial(deps(), state);
    logger.info('trial checked', {
      model: state.model,
      sweep: state.trial.rules.id,
      trial: state.trial.index,
      runId: state.run.runId,
      ...decision,
    });
    return decision;
  });
}

export const handler = makeCheckTrialHandler(
  once((): CheckTrialDeps => {
    const env = readEnv(registryEnvSchema);
    return {
      bucket: env[ENV.bucket],
      objects: new S3Objects(createS3Client()),
      registry: new Registry(createDocumentClient(), env[ENV.table]),
    };
  }),
);
