import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { DriftStore } from '../adapters/drift/drift-store.js';
import { S3Objects } from '../adapters/s3-objects.js';
import type { MlcycleConfig } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import { ValidationError } from '../domain/errors.js';
import {
  discardBaseline,
  discardBatch,
  listBaselines,
  useBaseline,
} from '../services/monitoring/baseline-decisions.js';
import { type AuthMode, authEnvSchema, callerOf } from './kit/caller.js';
import { type HttpResult, httpHandler, json, jsonBody } from './kit/http.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('monitoring-http');

export interface MonitoringHttpDeps {
  readonly authMode: AuthMode;
  readonly config: () => MlcycleConfig;
  readonly store: DriftStore;
  readonly objects: S3Objects;
  readonly bucket: string;
}

const versionBody = z.strictObject({ id: z.string().min(1).max(128), reason: z.string() });
const batchBody = z.strictObject({ batchKey: z.string().min(1).max(1024), reason: z.string() });

/**
 * The monitoring decisions of people, as the authenticated caller (docs/monitoring.md "Baseline
 * versions"): list a model's baselines and audit trail, use an earlier baseline, discard one
 * that is not active, set a bad batch aside. The models are the deployed config's.
 */
export function makeMonitoringHttpHandler(deps: () => MonitoringHttpDeps) {
  return httpHandler(logger, async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const { authMode, config: deployed, ...adapters } = deps();
    const config = deployed();
    const caller = callerOf(event, authMode, config);
    const d = { ...adapters, models: Object.keys(config.models) };
    const model = event.pathParameters?.model ?? '';
    switch (event.routeKey) {
      case 'GET /drift/{model}/baselines':
        return json(200, await listBaselines(d, model));
      case 'POST /drift/{model}/baselines/use':
      case 'POST /drift/{model}/baselines/discard': {
        const body = parseInput(versionBody, jsonBody(event), 'baseline decision');
        const decide = event.routeKey.endsWith('/use') ? useBaseline : discardBaseline;
        const out = await decide(d, { model, ...body }, caller);
        logger.info('baseline decision', { ...out.audit });
        return json(200, out);
      }
      case 'POST /drift/{model}/batches/discard': {
        const body = parseInput(batchBody, jsonBody(event), 'batch discard');
        const out = await discardBatch(d, { model, ...body }, caller);
        logger.info('batch discarded', { ...out.audit, cooldownReleased: out.cooldownReleased });
        return json(200, out);
      }
      default:
        throw new ValidationError(`no route ${event.routeKey}`);
    }
  });
}

export const handler = makeMonitoringHttpHandler(
  once((): MonitoringHttpDeps => {
    const env = readEnv(registryEnvSchema.and(authEnvSchema));
    return {
      authMode: env[ENV.authMode],
      config: () => deployedConfig(),
      store: new DriftStore(createDocumentClient(), env[ENV.table]),
      objects: new S3Objects(createS3Client()),
      bucket: env[ENV.bucket],
    };
  }),
);
