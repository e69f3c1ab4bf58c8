import { z } from 'zod';

export const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What was measured for one column (records, summaries and the CLI carry it): the raw distance
 * (KS for numeric columns, Jensen–Shannon for categorical), the noise margin it was judged
 * against, the p-value (KS or χ², reported, not deciding), Wasserstein/σ with its own margin,
 * PSI, and the missing rates in percent with the margin their change was judged against.
 */
export const measuredSchema = z.object({
  ks: z.number().optional(),
  ksNoiseMargin: z.number().optional(),
  jensenShannon: z.number().optional(),
  jensenShannonNoiseMargin: z.number().optional(),
  pValue: z.number().optional(),
  pValueTest: z.enum(['ks', 'chi-square']).optional(),
  wassersteinNormalized: z.number().optional(),
  wassersteinNoiseMargin: z.number().optional(),
  psi: z.number().optional(),
  missingPercent: z.object({
    baseline: z.number(),
    batch: z.number(),
    /** In percentage points: the change two same-law samples of these sizes reach by chance. */
    noiseMargin: z.number().optional(),
  }),
});
export type Measured = z.infer<typeof measuredSchema>;

/**
 * How a batch's check ended: `degraded` when it was checked but more than
 * monitoring.maxSkippedRowShare of its rows were skipped (its figures describe part of the file).
 */
export const DRIFT_CHECK_STATUSES = ['ok', 'insufficient-data', 'degraded', 'error'] as const;
export type DriftCheckStatus = (typeof DRIFT_CHECK_STATUSES)[number];

/**
 * The latest drift status of a model, at reports/<model>/drift/latest.json. Written by the
 * drift handler after every batch; read by the approval page and the CLI.
 */
export const driftSummarySchema = z.object({
  model: z.string(),
  batchKey: z.string(),
  checkedAt: z.string(),
  status: z.enum(DRIFT_CHECK_STATUSES),
  overallSeverity: z.enum(SEVERITIES),
  driftedShare: z.number(),
  rows: z.number().int(),
  features: z.array(
    z.object({
      name: z.string(),
      kind: z.enum(['numeric', 'categorical']),
      method: z.string(),
      score: z.number().nullable(),
      severity: z.enum(SEVERITIES),
      /** What to do about it, for a drifted column (the HTML report says the same). */
      recommendation: z.string().optional(),
      /** What was measured (absent in summaries written before it was kept). */
      measured: measuredSchema.optional(),
    }),
  ),
  reportUri: z.string(),
  /** Live performance, when the batch has labels and predictions (and latencies). */
  performance: z
    .object({
      metrics: z.record(z.string(), z.number()).nullable(),
      change: z.record(z.string(), z.number()).nullable(),
      latency: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable(),
    })
    .optional(),
  error: z.string().optional(),
  /** The batch's id (absent in summaries written before it was kept). */
  batchId: z.string().optional(),
  /** Why the batch is `degraded` (rows skipped, with the counts), and other profile warnings. */
  warnings: z.array(z.string()).optional(),
});
export type DriftSummary = z.infer<typeof driftSummarySchema>;

export { driftLatestKey } from './s3-layout.js';
