import { z } from 'zod';
import { metricsSchema } from './pipeline.js';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The client manifest at deployments/<model>/<stage>.json: what a game client or service reads
 * to learn which version serves a stage and where to download it. Written only by a promotion or
 * a rollback, in the same step that moves the registry's stage pointer (lambdas/domain/registry/
 * manifest.ts builds it), after the artifact's served copy was verified. It is public: no
 * personal data (who promoted stays in the ledger), no bucket name and no key outside the
 * downloads/ prefix; keys not listed here are dropped when it is written or read.
 *
 * v2 replaced v1 (whose `artifact.uri` was an s3:// URI in the private bucket, which no client
 * could fetch): a stored v1 manifest is not served; the next promotion or rollback of the stage
 * republishes it as v2 (docs/deploy.md, "Client downloads").
 */
export const clientManifestSchema = z.object({
  schema: z.literal('mlcycle.manifest/v2'),
  model: z.string(),
  stage: z.string(),
  version: z.string(),
  /** The served artifact: an https URL on AWS (the CDN), the local API's on the embedded default. */
  download: z.object({
    url: z.string().url(),
    sha256: z.string().regex(SHA256),
    size: z.number().int().nonnegative(),
  }),
  metrics: metricsSchema.partial(),
  promotedAt: z.string(),
  /** Sequence number of the promotion-ledger entry this manifest reflects. */
  ledgerSeq: z.number().int(),
  previousVersion: z.string().nullable(),
  action: z.enum(['promote', 'rollback', 'demote']),
});
export type ClientManifest = z.infer<typeof clientManifestSchema>;
export type ClientDownload = ClientManifest['download'];

export { manifestKey } from './s3-layout.js';
