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
import { abortRolloutAs } from '../services/rollouts/abort.js';
import { rampRollout } from '../services/rollouts/ramp.js';
import { rolloutStatus } from '../services/rollouts/status.js';
import { type AuthMode, authEnvSchema, callerOf } from './kit/caller.js';
import { clientPublicationFromEnv } from './kit/client-publication.js';
import { type HttpResult, httpHandler, json, jsonBody } from './kit/http.js';
import { noticeDepsFromEnv } from './kit/notices.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('rollout-http');

export interface RolloutHttpDeps extends Pick<ClientPublicationDeps, 'clientBaseUrl' | 'cdn'> {
  readonly authMode: AuthMode;
  readonly config: () => MlcycleConfig;
  readonly registry: Registry;
  readonly objects: S3Objects;
  readonly bucket: string;
  readonly notices: StageNoticeDeps;
}

const rampBody = z.strictObject({ percent: z.number(), reason: z.string().max(500).default('') });
const abortBody = z.strictObject({ reason: z.string().max(500) });

/**
 * Running rollouts, as the authenticated caller (docs/rollouts.md "Running a rollout"): the status
 * with the decision its evidence supports, a ramp (the stage's approvers or rollbackBy), an abort
 * (rollbackBy). Who may, and the policy, come from the deployed config; starting one is a
 * promotion (POST /promotions with `rollout`), so it passes the stage's gates and approvals.
 */
export function makeRolloutHttpHandler(deps: () => RolloutHttpDeps) {
  return httpHandler(logger, async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const { authMode, config: deployed, ...adapters } = deps();
    const d = { ...adapters, config: deployed() };
    const caller = callerOf(event, authMode, d.config);
    const { model = '', stage = '' } = event.pathParameters ?? {};
    switch (event.routeKey) {
      case 'GET /rollouts/{model}/{stage}':
        return json(200, await rolloutStatus(d, model, stage));
      case 'POST /rollouts/{model}/{stage}/ramp':
      case 'POST /rollouts/{model}/{stage}/abort': {
        const who = { model, stage, actor: caller.person };
        const { rollout, published } = event.routeKey.endsWith('/ramp')
          ? await rampRollout(d, { ...parseInput(rampBody, jsonBody(event), 'ramp'), ...who })
          : await abortRolloutAs(d, { ...parseInput(abortBody, jsonBody(event), 'abort'), ...who });
        logger.info('rollout changed', { route: event.routeKey, id: rollout.rolloutId, by: caller.person });
        return json(200, { rollout, manifest: published.manifest, invalidation: published.invalidation });
      }
      default:
        throw new ValidationError(`no route ${event.routeKey}`);
    }
  });
}

export const handler = makeRolloutHttpHandler(
  once((): RolloutHttpDeps => {
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
