import { z } from 'zod';
import { rolloutIdSchema, rolloutVariantSchema } from './rollout.js';
import { rolloutEvidenceSchema } from './rollout-evidence.js';

/**
 * A rollout as the registry keeps it (item `ROLLOUT#<rolloutId>` in the model's partition, see
 * docs/registry-table.md): which versions it serves at which weights (one step per ramp, the
 * last in force), who started it under which approval, the evidence merged from monitoring
 * batches with the decision's memory, and how it ended. `revision` orders every change: each
 * write is conditional on the revision read, so concurrent ramps, aborts and evidence merges
 * serialise or fail with a ConflictError.
 */
export const ROLLOUT_STATUSES = ['active', 'aborted', 'promoted', 'ended'] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

export const ROLLOUT_END_KINDS = ['abort', 'auto-abort', 'promoted', 'superseded'] as const;
export type RolloutEndKind = (typeof ROLLOUT_END_KINDS)[number];

/** The monitoring batch ids kept on a record for idempotency (the newest ones). */
export const ROLLOUT_BATCH_MEMORY = 1000;

export const rolloutStepSchema = z.object({
  /** Canary (or treatments) first, control last; weights in basis points summing to 10000. */
  variants: z.array(rolloutVariantSchema).min(2).max(8),
  at: z.string(),
  actor: z.string(),
  reason: z.string().optional(),
});
export type RolloutStep = z.infer<typeof rolloutStepSchema>;

export const rolloutEndedSchema = z.object({
  at: z.string(),
  actor: z.string(),
  reason: z.string(),
  kind: z.enum(ROLLOUT_END_KINDS),
});
export type RolloutEnded = z.infer<typeof rolloutEndedSchema>;

export const rolloutRecordSchema = z.object({
  model: z.string(),
  stage: z.string(),
  rolloutId: rolloutIdSchema,
  status: z.enum(ROLLOUT_STATUSES),
  canaryVersion: z.string(),
  controlVersion: z.string(),
  /** The stage's ledger entry in force (serving the control) when the rollout started. */
  controlLedgerSeq: z.number().int().nonnegative().optional(),
  steps: z.array(rolloutStepSchema).min(1),
  startedAt: z.string(),
  startedBy: z.string(),
  /** The approval request that authorised the start (null where the stage needs none). */
  approval: z.object({ requestId: z.string(), approvedBy: z.array(z.string()) }).nullable(),
  evidence: rolloutEvidenceSchema,
  /** decide()'s memory (running minimum p-values, intersected intervals), passed back next check. */
  memory: z.unknown(),
  lastDecision: z.unknown().nullable(),
  /** Monitoring batches already merged (newest ROLLOUT_BATCH_MEMORY), so a redelivery adds nothing. */
  batches: z.array(z.string()),
  revision: z.number().int().nonnegative(),
  /** The deployment (pipeline execution) that started it: a redelivered Deploy starts nothing twice. */
  deploymentKey: z.string().optional(),
  ended: rolloutEndedSchema.optional(),
  /** The promotion execution `rollout promote` started for the canary. */
  promotionRequest: z.object({ executionName: z.string(), at: z.string() }).optional(),
});
export type RolloutRecord = z.infer<typeof rolloutRecordSchema>;

/** The status a rollout ends in for each way of ending. */
export function statusForEnd(kind: RolloutEndKind): Exclude<RolloutStatus, 'active'> {
  if (kind === 'promoted') return 'promoted';
  if (kind === 'superseded') return 'ended';
  return 'aborted';
}

/** The variants in force (the last step's). */
export function variantsInForce(record: Pick<RolloutRecord, 'steps'>): RolloutStep['variants'] {
  const last = record.steps[record.steps.length - 1];
  if (!last) throw new Error('a rollout record has at least one step');
  return last.variants;
}

/** One monitoring batch folded into a rollout (RolloutStore.recordEvidence). */
export interface RolloutEvidenceUpdate {
  batchId: string;
  /** The stored evidence with this batch merged in (the new total, not the batch alone). */
  evidence: RolloutRecord['evidence'];
  memory: unknown;
  lastDecision: unknown;
}
