import { z } from 'zod';
import { metricsSchema } from './pipeline.js';
import { ROLLOUT_HASH, rolloutAssignmentSchema, rolloutIdSchema, rolloutVariantSchema } from './rollout.js';

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
const downloadSchema = z.object({
  url: z.string().url(),
  sha256: z.string().regex(SHA256),
  size: z.number().int().nonnegative(),
});

/**
 * During a rollout: the assignment rule's facts (docs/rollouts.md) and, per variant, the version
 * and where to download it. The top-level version and download stay the control's, so a client
 * that knows nothing of rollouts keeps serving what the stage serves. Blue-green (100 %) keeps the
 * control listed at weight 0, its download warm for an instant rollback.
 */
export const manifestRolloutSchema = z
  .object({
    hash: z.literal(ROLLOUT_HASH),
    rolloutId: rolloutIdSchema,
    variants: z
      .array(rolloutVariantSchema.extend({ download: downloadSchema }))
      .min(2)
      .max(8),
  })
  .superRefine((r, ctx) => {
    const check = rolloutAssignmentSchema.safeParse(r);
    for (const issue of check.success ? [] : check.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }
  });
export type ManifestRollout = z.infer<typeof manifestRolloutSchema>;

export const clientManifestSchema = z.object({
  schema: z.literal('mlcycle.manifest/v2'),
  model: z.string(),
  stage: z.string(),
  version: z.string(),
  /** The served artifact: an https URL on AWS (the CDN), the local API's on the embedded default. */
  download: downloadSchema,
  metrics: metricsSchema.partial(),
  promotedAt: z.string(),
  /** Sequence number of the promotion-ledger entry this manifest reflects. */
  ledgerSeq: z.number().int(),
  previousVersion: z.string().nullable(),
  action: z.enum(['promote', 'rollback', 'demote']),
  /** Present while a rollout runs on the stage: which player gets which version. */
  rollout: manifestRolloutSchema.optional(),
});
export type ClientManifest = z.infer<typeof clientManifestSchema>;
export type ClientDownload = ClientManifest['download'];

export { manifestKey } from './s3-layout.js';
