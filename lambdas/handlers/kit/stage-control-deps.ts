import { createDocumentClient, createS3Client } from '../../adapters/aws-clients.js';
import { deployedConfig } from '../../adapters/deployed-config.js';
import { Registry } from '../../adapters/registry/registry.js';
import { S3Objects } from '../../adapters/s3-objects.js';
import type { SlackLogger } from '../../adapters/slack.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { ENV } from '../../contracts/env.js';
import type { ClientPublicationDeps } from '../../services/deploy/client-publication.js';
import type { StageNoticeDeps } from '../../services/notices/stage-notices.js';
import { type AuthMode, authEnvSchema } from './caller.js';
import { clientPublicationFromEnv } from './client-publication.js';
import { noticeDepsFromEnv } from './notices.js';
import { registryEnvSchema } from './pipeline-env.js';
import { readEnv } from './runtime.js';

/**
 * What a control route that changes what a stage serves needs (rollbacks, registrations, ramps
 * and aborts of rollouts): the caller's auth mode, the deployed policy, the registry, where
 * clients download and read manifests, and where the change is noticed.
 */
export interface StageControlDeps extends Pick<ClientPublicationDeps, 'clientBaseUrl' | 'cdn'> {
  readonly authMode: AuthMode;
  readonly config: () => MlcycleConfig;
  readonly registry: Registry;
  readonly objects: S3Objects;
  readonly bucket: string;
  readonly notices: StageNoticeDeps;
}

/** The same, from the deployed environment (never from a request). */
export function stageControlDepsFromEnv(logger: SlackLogger): StageControlDeps {
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
}
