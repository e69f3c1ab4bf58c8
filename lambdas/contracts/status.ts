import { z } from 'zod';
import { CLEANUP_TRIGGERS } from './cleanup.js';
import { DRIFT_CHECK_STATUSES, SEVERITIES } from './drift-summary.js';

/**
 * `GET /status/{model}` and `mlcycle status <model>` (one shape, docs/operations.md): what
 * serves each stage of the config, the last run, the next scheduled retrain, the approvals that
 * wait, the latest drift and live-performance status, and the last cleanup. Absent facts are
 * `null` (or an empty list), never left out, so a client reads every key.
 */
export const modelStatusSchema = z.strictObject({
  model: z.string(),
  /** When this answer was computed (UTC). */
  at: z.string(),
  /** One entry per stage of the config (`environments`), in config order. */
  stages: z.array(
    z.strictObject({
      stage: z.string(),
      /** null: nothing serves this stage yet. */
      serving: z
        .strictObject({
          version: z.string(),
          since: z.string(),
          /** Measured on mlcycle's holdout (the metrics gates use). */
          metrics: z.record(z.string(), z.number()),
          ledgerSeq: z.number().int(),
        })
        .nullable(),
    }),
  ),
  lastRun: z
    .strictObject({
      runId: z.string(),
      status: z.string(),
      trigger: z.string(),
      stage: z.string(),
      startedAt: z.string(),
      finishedAt: z.string().nullable(),
      version: z.string().nullable(),
      /** Why it failed (the state, error and cause), null unless it did. */
      failure: z.strictObject({ kind: z.string(), error: z.string(), cause: z.string() }).nullable(),
      /** Why a skipped retrain did not train. */
      skipped: z.string().nullable(),
    })
    .nullable(),
  nextRetrain: z.strictObject({
    enabled: z.boolean(),
    /** The EventBridge expression of schedule.retrain. */
    schedule: z.string(),
    stage: z.string(),
    /** Next fire time (UTC); null when the schedule is disabled. */
    at: z.string().nullable(),
  }),
  pendingApprovals: z.array(
    z.strictObject({
      requestId: z.string(),
      version: z.string(),
      stage: z.string(),
      requestedBy: z.string(),
      createdAt: z.string(),
      expiresAt: z.string(),
      approvals: z.number().int(),
      quorum: z.number().int(),
    }),
  ),
  drift: z
    .strictObject({
      checkedAt: z.string(),
      batchKey: z.string(),
      status: z.enum(DRIFT_CHECK_STATUSES),
      severity: z.enum(SEVERITIES),
      driftedShare: z.number(),
      reportUri: z.string(),
      /** Live performance of that batch (labels and predictions, latencies), when it had them. */
      performance: z
        .strictObject({
          metrics: z.record(z.string(), z.number()).nullable(),
          change: z.record(z.string(), z.number()).nullable(),
          latency: z.strictObject({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable(),
        })
        .nullable(),
    })
    .nullable(),
  lastCleanup: z
    .strictObject({
      at: z.string(),
      trigger: z.enum(CLEANUP_TRIGGERS),
      actor: z.string(),
      archived: z.array(z.string()),
      reclaimedBytes: z.number().int(),
    })
    .nullable(),
});
export type ModelStatus = z.infer<typeof modelStatusSchema>;
