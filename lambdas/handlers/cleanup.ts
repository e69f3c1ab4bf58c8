import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { Registry } from '../adapters/registry/registry.js';
import { S3Objects } from '../adapters/s3-objects.js';
import type { MlcycleConfig } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import { applyRetention, type RetentionDeps } from '../services/registry/retention.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { createLogger, once, readEnv } from './kit/runtime.js';

const logger = createLogger('cleanup');

export interface CleanupDeps extends RetentionDeps {
  /** The deployed config (its archival policy), read at each run. */
  readonly config: () => MlcycleConfig;
}

/** Daily schedule: archive versions the retention policy no longer keeps and reclaim their bytes. */
export function makeCleanupHandler(deps: () => CleanupDeps) {
  return lambdaHandler(logger, correlationIds.scheduled, async (_event: unknown) => {
    const d = deps();
    const { archival } = d.config();
    const report = await applyRetention(d, {
      keepLastVersions: archival.keepLastVersions,
      dryRun: archival.dryRun,
      actor: 'mlcycle-cleanup',
    });
    logger.info('retention applied', {
      dryRun: report.dryRun,
      reclaimedBytes: report.reclaimedBytes,
      archived: report.models.flatMap((m) => m.archived.map((a) => `${m.model}@${a.version}`)),
    });
    return {
      dryRun: report.dryRun,
      reclaimedBytes: report.reclaimedBytes,
      archived: report.models.reduce((n, m) => n + m.archived.length, 0),
    };
  });
}

const envSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.bucket]: z.string().min(1),
  [ENV.configFile]: z.string().min(1),
});

export const handler = makeCleanupHandler(
  once((): CleanupDeps => {
    const env = readEnv(envSchema);
    return {
      registry: new Registry(createDocumentClient(), env[ENV.table]),
      objects: new S3Objects(createS3Client()),
      bucket: env[ENV.bucket],
      config: () => deployedConfig(),
    };
  }),
);
