import { z } from 'zod';

/**
 * The assignment rule a client manifest publishes during a rollout, and its shapes. Any client
 * computes its player's variant from these facts alone (docs/rollouts.md, reference client in
 * clients/typescript/mlcycle-assign.ts, test vectors in rollout-vectors.json):
 *
 *   bytes  = UTF-8 of `${rolloutId}:${playerId}` (the player id as the game has it, no normalisation)
 *   h      = FNV-1a 32-bit over bytes (offset basis 0x811c9dc5, prime 0x01000193)
 *   h      = murmur3 fmix32(h)   (h ^= h >>> 16; h *= 0x85ebca6b; h ^= h >>> 13; h *= 0xc2b2ae35; h ^= h >>> 16)
 *   bucket = h mod 10000
 *
 * Variants are listed in order, each taking the next `weight` buckets (basis points): the first
 * variant (the canary) takes [0, w0), the next [w0, w0 + w1), …; the control is the last one.
 */
export const ROLLOUT_HASH = 'fnv1a32-fmix32-mod10000' as const;
export const ROLLOUT_BUCKETS = 10_000;

/** Rollout ids never hold the ':' separator, so `${rolloutId}:${playerId}` is unambiguous. */
export const rolloutIdSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,127}$/,
    'a rollout id is 1–128 of a-z 0-9 . _ - (starting with a letter or digit)',
  );

export const rolloutVariantSchema = z.object({
  /** Stable name a client reports back with its metrics (e.g. "canary", "control"). */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'a variant name is 1–64 of a-z 0-9 _ - starting with a letter'),
  /** The model version this variant serves. */
  version: z.string().min(1),
  /** Share of buckets in basis points (0–10000); the weights of a rollout sum to 10000. */
  weight: z.number().int().min(0).max(ROLLOUT_BUCKETS),
});
export type RolloutVariant = z.infer<typeof rolloutVariantSchema>;

export const rolloutAssignmentSchema = z
  .object({
    hash: z.literal(ROLLOUT_HASH),
    rolloutId: rolloutIdSchema,
    /** Canary (or treatments) first, control last. */
    variants: z.array(rolloutVariantSchema).min(2).max(8),
  })
  .superRefine((a, ctx) => {
    const total = a.variants.reduce((s, v) => s + v.weight, 0);
    if (total !== ROLLOUT_BUCKETS) {
      ctx.addIssue({
        code: 'custom',
        message: `variant weights sum to ${total}, not ${ROLLOUT_BUCKETS} basis points`,
      });
    }
    const names = new Set(a.variants.map((v) => v.name));
    if (names.size !== a.variants.length) {
      ctx.addIssue({ code: 'custom', message: 'variant names repeat: each variant needs its own name' });
    }
  });
export type RolloutAssignment = z.infer<typeof rolloutAssignmentSchema>;

/** One published test vector (rollout-vectors.json). */
export const rolloutVectorSchema = z.object({
  note: z.string(),
  rolloutId: z.string(),
  playerId: z.string(),
  /** UTF-8 bytes of `${rolloutId}:${playerId}` as hex, so a port can check its encoding first. */
  utf8Hex: z.string(),
  fnv1a32: z.number().int(),
  mixed: z.number().int(),
  bucket: z.number().int(),
  /** The variant chosen under each of the vector file's weight sets, by set name. */
  variants: z.record(z.string(), z.string()),
});
export const rolloutVectorsSchema = z.object({
  hash: z.literal(ROLLOUT_HASH),
  weightSets: z.record(z.string(), z.array(z.object({ name: z.string(), weight: z.number().int() }))),
  vectors: z.array(rolloutVectorSchema),
});
