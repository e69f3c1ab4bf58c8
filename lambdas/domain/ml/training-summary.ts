import { z } from 'zod';

/**
 * training-summary.json, the trainer's last output: what Register records as lineage. Written
 * last, so its presence means the run's other outputs are complete.
 */
export const trainingSummarySchema = z.object({
  model: z.string(),
  runId: z.string(),
  artifactUri: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  framework: z.string(),
  frameworkVersion: z.string(),
  target: z.string(),
  features: z.array(z.object({ name: z.string(), kind: z.enum(['numeric', 'categorical']) })),
  trainRows: z.number().int(),
  holdoutRows: z.number().int(),
  hyperparameters: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  datasetUri: z.string(),
  datasetSha256: z.string(),
  codeVersion: z.string(),
  epochs: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string(),
  finalTrainLoss: z.number(),
});
export type TrainingSummary = z.infer<typeof trainingSummarySchema>;
