import { z } from 'zod';
import { BINARY_METRICS } from './config-gates.js';
import { email } from './config-primitives.js';
import { TASK_TYPES } from './trainer.js';

const severityThresholds = z
  .strictObject({
    low: z.number().gt(0).default(0.1),
    medium: z.number().gt(0).default(0.2),
    high: z.number().gt(0).default(0.3),
    critical: z.number().gt(0).default(0.5),
  })
  .refine((t) => t.low < t.medium && t.medium < t.high && t.high < t.critical, {
    message: 'must increase: low < medium < high < critical',
  });

/** The metrics a labelled batch is measured on (binary: labels 0/1 and a probability prediction). */
export const LIVE_METRICS = BINARY_METRICS;

/**
 * A model's live-performance thresholds (`models.<m>.monitoring.performance`): a checked batch
 * whose metric fell further below the serving version's evaluation than `maxDrop` allows (rose,
 * for logLoss), or whose p95 latency is over `maxLatencyP95Ms`, alerts on its own, drift or no
 * drift. Judged only on batches of at least monitoring.minSampleSize rows. Empty: no thresholds.
 */
export const performanceThresholdsSchema = z.strictObject({
  /** Largest drop allowed per metric, in the metric's units (0.05 = five points of accuracy). */
  maxDrop: z
    .strictObject(
      Object.fromEntries(LIVE_METRICS.map((m) => [m, z.number().min(0).optional()])) as Record<
        (typeof LIVE_METRICS)[number],
        z.ZodOptional<z.ZodNumber>
      >,
    )
    .prefault({}),
  /** Largest p95 of the batch's latency column (latency_ms), in milliseconds. */
  maxLatencyP95Ms: z.number().gt(0).optional(),
});
export type PerformanceThresholds = z.infer<typeof performanceThresholdsSchema>;

export const monitoringSchema = z.strictObject({
  thresholds: severityThresholds.prefault({}),
  /** Below this many rows in a batch (or the baseline) a feature's result is "insufficient data". */
  minSampleSize: z.number().int().min(1).default(200),
  /** Distinct values kept per categorical feature before the rest go to "other". */
  categoricalCap: z.number().int().min(2).max(10_000).default(200),
  /** Pin a feature's kind per model instead of inferring it from the baseline. */
  schema: z.record(z.string(), z.record(z.string(), z.enum(['numeric', 'categorical']))).default({}),
  /**
   * Columns a baseline or batch may have: a wider file is refused (an error record naming its
   * width and this cap) before it is profiled, since every column holds a sketch in memory.
   */
  maxColumns: z.number().int().min(1).max(100_000).default(2_000),
  /**
   * Share of a batch's rows that may be skipped (ragged, oversized) before its check is marked
   * `degraded`, with the counts: its drift figures then describe only part of the file.
   */
  maxSkippedRowShare: z.number().min(0).max(1).default(0.05),
  /**
   * What the approval page calls a model's recent drift: the batches checked in the last
   * `recentDays` days, at most the newest `recentBatches` of them. The page shows the worst of
   * them beside the latest, so a small latest batch cannot hide an earlier severe one.
   */
  approvalPage: z
    .strictObject({
      recentDays: z.number().min(1).max(90).default(7),
      recentBatches: z.number().int().min(1).max(1000).default(200),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      minSeverity: z.enum(['low', 'medium', 'high', 'critical']).default('high'),
      email: z.array(email).default([]),
      slackWebhookUrl: z.url().optional(),
    })
    .prefault({}),
  retrainOnCritical: z
    .strictObject({
      enabled: z.boolean().default(false),
      cooldownHours: z.number().min(0).default(24),
    })
    .prefault({}),
  /**
   * Reserved concurrency of the baseline and drift functions: a burst of uploads runs at most
   * this many 3 GB, 15-minute functions at once (the rest wait in Lambda's async queue, retried
   * for up to 6 hours) and cannot starve the approval and pipeline functions. `false` reserves
   * nothing: needed on accounts whose Lambda concurrency quota is 10 (new accounts), where AWS
   * refuses any reservation (`mlcycle doctor --aws` checks it).
   */
  reservedConcurrency: z
    .union([
      z.literal(false),
      z.strictObject({
        baseline: z.number().int().min(1).max(1000).default(2),
        drift: z.number().int().min(1).max(1000).default(5),
      }),
    ])
    .default({ baseline: 2, drift: 5 }),
});
export type MonitoringConfig = z.infer<typeof monitoringSchema>;

export const archivalSchema = z.strictObject({
  /** Versions kept per model beyond whatever is serving or a rollback target. */
  keepLastVersions: z.number().int().min(1).default(5),
  /** Versions created longer ago than this are archived too (age OR count); unset: no age rule. */
  maxAgeDays: z.number().int().min(1).optional(),
  /**
   * Versions always kept besides whatever serves a stage or is a rollback target (under review
   * included), never crossed by a cleanup (domain/retention/policy.ts floorPool).
   */
  floor: z.number().int().min(1).default(3),
  transitionToInfrequentAccessDays: z.number().int().min(30).default(30),
  transitionToGlacierDays: z.number().int().min(1).default(90),
  expireNoncurrentAfterDays: z.number().int().min(1).default(365),
  largeObjectThresholdMb: z.number().min(1).default(100),
  /** Report what would be deleted without deleting. */
  dryRun: z.boolean().default(false),
});
export type ArchivalConfig = z.infer<typeof archivalSchema>;

/**
 * What the monitoring handlers get in MLCYCLE_MONITORING_CONFIG: the monitoring section plus
 * each model's column roles (target, ids to ignore), so a batch is read the way training read it.
 */
export const monitoringRuntimeSchema = monitoringSchema.omit({ reservedConcurrency: true }).extend({
  models: z.record(
    z.string(),
    z.object({
      target: z.string(),
      /** How a rollout's live quality is measured from label and prediction (share correct, or mean absolute error). */
      task: z.enum(TASK_TYPES).default('binary'),
      exclude: z.array(z.string()),
      performance: performanceThresholdsSchema.prefault({}),
    }),
  ),
});
export type MonitoringRuntimeConfig = z.infer<typeof monitoringRuntimeSchema>;
