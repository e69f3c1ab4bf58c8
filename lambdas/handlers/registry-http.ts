import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { ValidationError } from '../domain/errors.js';
import { registerExternalVersion } from '../services/registry/register-external.js';
import { rollback } from '../services/registry/rollback.js';
import { authEnvSchema, callerOf } from './kit/caller.js';
import { errorResult, type HttpResult, json, jsonBody } from './kit/http.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('registry-http');
const deps = once(() => {
  const env = readEnv(registryEnvSchema.and(authEnvSchema));
  return {
    env,
    store: new RegistryStore(createDocumentClient(), env[ENV.table]),
    objects: new S3Objects(createS3Client()),
  };
});

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
export const handler = async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
  try {
    const { env, store, objects } = deps();
    const config = deployedConfig();
    const caller = callerOf(event, env[ENV.authMode], config);
    const bucket = env[ENV.bucket];
    switch (event.routeKey) {
      case 'GET /whoami':
        return json(200, caller);
      case 'POST /rollbacks': {
        const b = parseInput(rollbackBody, jsonBody(event), 'rollback');
        const out = await rollback(
          { store, objects, bucket, config },
          {
            model: b.model,
            stage: b.stage,
            ...(b.to ? { to: b.to } : {}),
            reason: b.reason,
            actor: caller.person,
          },
        );
        logger.info('rolled back', {
          model: b.model,
          stage: b.stage,
          to: out.entry.toVersion,
          by: caller.person,
        });
        return json(200, out);
      }
      case 'POST /versions': {
        const record = await registerExternalVersion(
          { config, bucket, objects, registry: store },
          jsonBody(event),
          caller.person,
        );
        logger.info('external version registered', { model: record.model, version: record.version });
        return json(201, record);
      }
      default:
        throw new ValidationError(`no route ${event.routeKey}`);
    }
  } catch (err) {
    return errorResult(err, logger);
  }
};
