import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { Registry } from '../adapters/registry/registry.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { deployStateSchema } from '../contracts/pipeline.js';
import { type DeployDeps, type DeployResult, deploy } from '../services/deploy/deploy.js';
import { clientPublicationFromEnv } from './kit/client-publication.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('deploy');

/**
 * Deploy: validates the candidate, then promotes it and publishes the client manifest, at most
 * once per execution (see services/deploy/deploy.ts).
 */
export function makeDeployHandler(deps: () => DeployDeps) {
  return lambdaHandler(logger, correlationIds.execution, async (event: unknown): Promise<DeployResult> => {
    const state = parseInput(deployStateSchema, event, 'Deploy input');
    const out = await deploy(deps(), state);
    const what = { model: state.model, stage: state.stage, version: out.version, ledgerSeq: out.ledgerSeq };
    if (out.supersededBy) {
      logger.warn('redelivered after a newer deployment: stage and manifest left as they are', {
        ...what,
        serving: out.supersededBy,
      });
    }
    if (out.published?.invalidation && 'error' in out.published.invalidation) {
      logger.warn(
        'CDN invalidation failed: edges serve the previous manifest until their s-maxage runs out',
        {
          ...what,
          error: out.published.invalidation.error,
        },
      );
    }
    logger.info('deployed', { ...what, redelivered: out.redelivered });
    return out;
  });
}

export const handler = makeDeployHandler(
  once((): DeployDeps => {
    const env = readEnv(registryEnvSchema);
    const doc = createDocumentClient();
    return {
      bucket: env[ENV.bucket],
      objects: new S3Objects(createS3Client()),
      registry: new Registry(doc, env[ENV.table]),
      approvals: new ApprovalStore(doc, env[ENV.table]),
      config: () => deployedConfig(),
      ...clientPublicationFromEnv(),
    };
  }),
);
