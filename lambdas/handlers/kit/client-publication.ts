import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { z } from 'zod';
import { CloudFrontInvalidator } from '../../adapters/cdn.js';
import { ENV } from '../../contracts/env.js';
import type { ClientPublicationDeps } from '../../services/deploy/client-publication.js';
import { readEnv } from './runtime.js';

/** The environment of a handler that publishes to clients: the client base URL, and the CDN on AWS. */
export const clientPublicationEnvSchema = z.object({
  [ENV.clientBaseUrl]: z.string().url(),
  [ENV.cdnDistributionId]: z.string().min(1).optional(),
});

/** Where a stage change publishes, from the deployed environment (never from an event). */
export function clientPublicationFromEnv(): Pick<ClientPublicationDeps, 'clientBaseUrl' | 'cdn'> {
  const env = readEnv(clientPublicationEnvSchema);
  const distributionId = env[ENV.cdnDistributionId];
  return {
    clientBaseUrl: env[ENV.clientBaseUrl],
    ...(distributionId ? { cdn: new CloudFrontInvalidator(distributionId, fromNodeProviderChain()) } : {}),
  };
}
