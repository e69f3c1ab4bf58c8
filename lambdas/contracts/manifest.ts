import { z } from 'zod';
import { metricsSchema } from './pipeline.js';

/**
 * The client manifest at deployments/<model>/<stage>.json: what a game client or service reads
 * to learn which version serves a stage. Written only by a promotion or a rollback, in the
 * same step that moves the registry's stage pointer (lambdas/domain/registry/manifest.ts builds
 * it). It is public: no personal data (who promoted stays in the ledger); keys not listed here
 * are dropped when it is written or read.
 */
export const clientManifestSchema = z.object({
  schema: z.literal('mlcycle.manifest/v1'),
  model: z.string(),
  stage: z.string(),
  version: z.string(),
  artifact: z.object({ uri: z.string(), sha256: z.string() }),
  metrics: metricsSchema.partial(),
  promotedAt: z.string(),
  /** Sequence number of the promotion-ledger entry this manifest reflects. */
  ledgerSeq: z.number().int(),
  previousVersion: z.string().nullable(),
  action: z.enum(['promote', 'rollback', 'demote']),
});
export type ClientManifest = z.infer<typeof clientManifestSchema>;

export { manifestKey } from './s3-layout.js';
