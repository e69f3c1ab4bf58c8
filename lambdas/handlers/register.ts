import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { Registry } from '../adapters/registry/registry.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { type Registration, registerStateSchema } from '../contracts/pipeline.js';
import { type RegisterDeps, registerRun } from '../services/pipeline/register.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('register');

/** Register: the run's next version, with metrics and lineage (see services/pipeline/register.ts). */
export function makeRegisterHandler(deps: () => RegisterDeps) {
  return lambdaHandler(logger, correlationIds.execution, async (event: unknown): Promise<Registration> => {
    const state = parseInput(registerStateSchema, event, 'Register input');
    const registration = await registerRun(deps(), state);
    logger.info('version registered', { model: state.model, version: registration.version });
    return registration;
  });
}

export const handler = makeRegisterHandler(
  once((): RegisterDeps => {
    const env = readEnv(registryEnvSchema.extend({ [ENV.codeVersion]: z.string().min(1) }));
    return {
      codeVersion: env[ENV.codeVersion],
      objects: new S3Objects(createS3Client()),
      registry: new Registry(createDocumentClient(), env[ENV.table]),
    };
  }),
);
