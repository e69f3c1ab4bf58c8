import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { Registry } from '../adapters/registry/registry.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { deployStateSchema, type SmokePlan } from '../contracts/pipeline.js';
import { type PrepareSmokeDeps, prepareSmoke } from '../services/deploy/smoke-plan.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('prepare-smoke');

/**
 * PrepareSmoke, right before Deploy: the rows a contract artifact's predict entry must answer
 * in the SmokePredict job (see services/deploy/smoke-plan.ts).
 */
export function makePrepareSmokeHandler(deps: () => PrepareSmokeDeps) {
  return lambdaHandler(logger, correlationIds.execution, async (event: unknown): Promise<SmokePlan> => {
    const state = parseInput(deployStateSchema, event, 'PrepareSmoke input');
    const plan = await prepareSmoke(deps(), state);
    logger.info(plan.required ? 'smoke sample written' : 'no predict job needed', {
      model: state.model,
      version: state.registration.version,
      ...(plan.required ? { rows: plan.rows, source: plan.source } : { reason: plan.reason }),
    });
    return plan;
  });
}

export const handler = makePrepareSmokeHandler(
  once((): PrepareSmokeDeps => {
    const env = readEnv(registryEnvSchema);
    return {
      objects: new S3Objects(createS3Client()),
      registry: new Registry(createDocumentClient(), env[ENV.table]),
    };
  }),
);
