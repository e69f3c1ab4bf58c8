import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { applyRetention } from '../adapters/registry/retention-service.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { createLogger, once, readEnv } from './kit/runtime.js';

const logger = createLogger('cleanup');
const envSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.bucket]: z.string().min(1),
  [ENV.configFile]: z.string().min(1),
});
const deps = once(() => {
  const env = readEnv(envSchema);
  const s3 = createS3Client();
  return {
    store: new RegistryStore(createDocumentClient(), env[ENV.table]),
    objects: new S3Objects(s3),
    s3,
    bucket: env[ENV.bucket],
  };
});

/** Daily schedule: archive versions the retention policy no longer keeps and reclaim their bytes. */
export const handler = async () => {
  const d = deps();
  const { archival } = deployedConfig();
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
};
