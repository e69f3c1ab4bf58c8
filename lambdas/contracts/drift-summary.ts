import { z } from 'zod';

export const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * The latest drift status of a model, at reports/<model>/drift/latest.json. Written by the
 * drift handler after every batch; read by the approval page and the CLI.
 */
export const driftSummarySchema = z.object({
  model: z.string(),
  batchKey: z.string(),
  checkedAt: z.string(),
  status: z.enum(['ok', 'insufficient-data', 'error']),
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
});
export type DriftSummary = z.infer<typeof driftSummarySchema>;

export { driftLatestKey } from './s3-layout.js';
