import { z } from 'zod';

/** What started a cleanup: the daily schedule, a successful lifecycle execution, or a person. */
export const CLEANUP_TRIGGERS = ['daily', 'deploy', 'manual'] as const;
export type CleanupTrigger = (typeof CLEANUP_TRIGGERS)[number];

/** One version a cleanup archived: why, and the run outputs it deleted. */
export const archivedVersionSchema = z.object({
  version: z.string(),
  reasons: z.array(z.string()),
  bytes: z.number().int().nonnegative(),
  objects: z.number().int().nonnegative(),
});
export type ArchivedVersion = z.infer<typeof archivedVersionSchema>;

/**
 * The history record of one real (not dry) cleanup of one model: what it archived, when, why,
 * the bytes reclaimed, what started it and who. Kept in the model's partition of the registry
 * table (`CLEANUP#<at>#<id>`, docs/registry-table.md); read by `mlcycle archive history`,
 * `archive stats` and `GET /status/{model}`.
 */
export const cleanupRecordSchema = z.object({
  model: z.string(),
  id: z.string(),
  at: z.string(),
  trigger: z.enum(CLEANUP_TRIGGERS),
  actor: z.string(),
  /** The rules it applied (the deployed config's archival section at the time). */
  policy: z.object({
    keepLastVersions: z.number().int(),
    maxAgeDays: z.number().int().optional(),
    floor: z.number().int(),
  }),
  archived: z.array(archivedVersionSchema),
  /** Versions it left in place (not archived before, not archived now). */
  kept: z.number().int().nonnegative(),
  reclaimedBytes: z.number().int().nonnegative(),
  deletedObjects: z.number().int().nonnegative(),
});
export type CleanupRecord = z.infer<typeof cleanupRecordSchema>;

/** A run that archived nothing is kept this long (then TTL removes it); one that archived, forever. */
export const EMPTY_CLEANUP_RETENTION_DAYS = 90;
