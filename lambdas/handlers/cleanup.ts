import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { applyRetention } from '../adapters/registry/retention-service.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { archivalSchema } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import { createLogger, once, readEnv } from './kit/runtime.js';

const logger = createLogger('cleanup');
const envSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.bucket]: z.string().min(1),
  // Parsed inside the schema so a bad value is a ValidationError naming the variable and the key
  // (a throw from the transform would escape safeParse as a bare ZodError or SyntaxError).
  [ENV.archivalConfig]: z.string().transform((text, ctx) => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `is not JSON: ${text.slice(0, 80)}` });
      return z.NEVER;
    }
    const parsed = archivalSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || '(root)'}: ${issue.message}` });
      }
      return z.NEVER;
    }
    return parsed.data;
  }),
});
const deps = once(() => {
  const env = readEnv(envSchema);
  const s3 = createS3Client();
  return {
    store: new RegistryStore(createDocumentClient(), env[ENV.table]),
    objects: new S3Objects(s3),
    s3,
    bucket: env[ENV.bucket],
    archival: env[ENV.archivalConfig],
  };
});

/** Daily schedule: archive versions the retention policy no longer keeps and reclaim their bytes. */
export const handler = async () => {
  const d = deps();
  const report = await applyRetention(d, {
    keepLastVersions: d.archival.keepLastVersions,
    dryRun: d.archival.dryRun,
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
