import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { Registry } from '../adapters/registry/registry.js';
import { S3Objects } from '../adapters/s3-objects.js';
import type { MlcycleConfig } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import { ValidationError } from '../domain/errors.js';
import type { ClientPublicationDeps } from '../services/deploy/client-publication.js';
import type { StageNoticeDeps } from '../services/notices/stage-notices.js';
import { registerExternalVersion } from '../services/registry/register-external.js';
import { rollback } from '../services/registry/rollback.js';
import { type AuthMode, authEnvSchema, callerOf } from './kit/caller.js';
import { clientPublicationFromEnv } from './kit/client-publication.js';
import { type HttpResult, httpHandler, json, jsonBody } from './kit/http.js';
import { noticeDepsFromEnv } from './kit/notices.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('registry-http');

export interface RegistryHttpDeps extends Pick<ClientPublicationDeps, 'clientBaseUrl' | 'cdn'> {
  readonly authMode: AuthMode;
  readonly config: () => MlcycleConfig;
  readonly registry: Registry;
  readonly objects: S3Objects;
  readonly bucket: string;
  readonly notices: StageNoticeDeps;
}

const rollbackBody = z.strictObject({
  model: z.string(),
  stage: z.string(),
  to: z.string().optional(),
  reason: z.string(),
});

/**
 * The registry's writes from people, as the authenticated caller: POST /rollbacks (by someone
 * the stage's policy allows, to a version that served it before), POST /versions (an artifact
 * trained elsewhere, from the model's run prefix, with reported metrics), and GET /whoami (who
 * the caller is to mlcycle).
 */
export function makeRegistryHttpHandler(deps: () => RegistryHttpDeps) {
  return httpHandler(logger, async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const { authMode, config: deployed, ...adapters } = deps();
    const services = { ...adapters, config: deployed() };
    const caller = callerOf(event, authMode, services.config);
    if (event.routeKey === 'GET /whoami') return json(200, caller);
    if (event.routeKey === 'POST /rollbacks') {
      const { to, ...b } = parseInput(rollbackBody, jsonBody(event), 'rollback');
      const out = await rollback(services, { ...b, ...(to ? { to } : {}), actor: caller.person });
      const { toVersion: to_, actor: by } = out.entry;
      logger.info('rolled back', { model: b.model, stage: b.stage, to: to_, by, cdn: out.invalidation });
      return json(200, out);
    }
    if (event.routeKey === 'POST /versions') {
      const record = await registerExternalVersion(services, jsonBody(event), caller.person);
      logger.info('external version registered', { model: record.model, version: record.version });
      return json(201, record);
    }
    throw new ValidationError(`no route ${event.routeKey}`);
  });
}

export const handler = makeRegistryHttpHandler(
  once((): RegistryHttpDeps => {
    const env = readEnv(registryEnvSchema.and(authEnvSchema));
    return {
      authMode: env[ENV.authMode],
      config: () => deployedConfig(),
      registry: new Registry(createDocumentClient(), env[ENV.table]),
      objects: new S3Objects(createS3Client()),
      bucket: env[ENV.bucket],
      ...clientPublicationFromEnv(),
      notices: noticeDepsFromEnv(logger),
    };
  }),
);
