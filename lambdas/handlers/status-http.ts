import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { CleanupHistory } from '../adapters/registry/cleanup-history.js';
import { Registry } from '../adapters/registry/registry.js';
import { S3Objects } from '../adapters/s3-objects.js';
import type { MlcycleConfig } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import { ValidationError } from '../domain/errors.js';
import { type ModelStatusDeps, modelStatus } from '../services/status/model-status.js';
import { type HttpResult, httpHandler, json } from './kit/http.js';
import { createLogger, once, readEnv } from './kit/runtime.js';

const logger = createLogger('status-http');

export interface StatusHttpDeps extends Omit<ModelStatusDeps, 'config'> {
  readonly config: () => MlcycleConfig;
}

/**
 * GET /status/{model}: where a model stands (contracts/status.ts), for the models of the
 * deployed config. Reads only: the registry table and the model's drift summary.
 */
export function makeStatusHttpHandler(deps: () => StatusHttpDeps) {
  return httpHandler(logger, async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    if (event.routeKey !== 'GET /status/{model}') throw new ValidationError(`no route ${event.routeKey}`);
    const { config, ...adapters } = deps();
    const model = event.pathParameters?.model ?? '';
    return json(200, await modelStatus({ ...adapters, config: config() }, model));
  });
}

const envSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.bucket]: z.string().min(1),
  [ENV.configFile]: z.string().min(1),
});

export const handler = makeStatusHttpHandler(
  once((): StatusHttpDeps => {
    const env = readEnv(envSchema);
    const doc = createDocumentClient();
    return {
      config: () => deployedConfig(),
      registry: new Registry(doc, env[ENV.table]),
      approvals: new ApprovalStore(doc, env[ENV.table]),
      history: new CleanupHistory(doc, env[ENV.table]),
      objects: new S3Objects(createS3Client()),
      bucket: env[ENV.bucket],
    };
  }),
);
