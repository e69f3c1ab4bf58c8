import { z } from 'zod';

/**
 * Per-variant evidence of a rollout as mergeable counts, and the policy that decides on it.
 * Evidence from any number of monitoring batches merges by adding counts (lambdas/domain/
 * rollouts/evidence.ts), in any order and grouping, so each batch is aggregated once and the
 * store keeps only sums. Evidence is kept per ramp step (the weights in force when a batch was
 * assigned), so the sample-ratio check knows each step's expected shares and comparisons are
 * stratified by step (a ramp with a time trend does not bias the canary's estimate).
 */

/** n, Σx, Σx² of a numeric metric (a business outcome, a prediction error, …). */
export const meanStateSchema = z.object({
  n: z.number().int().nonnegative(),
  sum: z.number(),
  sumSq: z.number().nonnegative(),
});
export type MeanState = z.infer<typeof meanStateSchema>;

/** successes out of trials (conversions, errors, …). */
export const rateStateSchema = z.object({
  successes: z.number().int().nonnegative(),
  trials: z.number().int().nonnegative(),
});
export type RateState = z.infer<typeof rateStateSchema>;

/**
 * Latencies in fixed log buckets (16 per doubling above 0.01 ms; contracts says the layout,
 * domain/rollouts/evidence.ts computes it): bucket index → count. Quantiles are within 2.2 %.
 */
export const latencyHistogramSchema = z.record(z.string().regex(/^\d+$/), z.number().int().nonnegative());
export type LatencyHistogram = z.infer<typeof latencyHistogramSchema>;

export const variantEvidenceSchema = z.object({
  /** Players assigned to this variant (first exposures); the sample-ratio check reads it. */
  assigned: z.number().int().nonnegative(),
  means: z.record(z.string(), meanStateSchema),
  rates: z.record(z.string(), rateStateSchema),
  latency: latencyHistogramSchema,
});
export type VariantEvidence = z.infer<typeof variantEvidenceSchema>;

/** Ramp step ("0", "1", …) → variant name → evidence. */
export const rolloutEvidenceSchema = z.object({
  steps: z.record(z.string().regex(/^\d+$/), z.record(z.string(), variantEvidenceSchema)),
});
export type RolloutEvidence = z.infer<typeof rolloutEvidenceSchema>;

const positive = z.number().positive();

/** A guardrail: a limit the treatment must not cross, each with its own threshold. */
export const guardrailSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('latency-p95'),
    /** The treatment's p95 latency must not exceed this (ms). */
    maxMs: positive,
  }),
  z.object({
    kind: z.literal('rate-increase'),
    /** A rate in the evidence (e.g. "error"). */
    rate: z.string(),
    /** The treatment's rate must not exceed the control's by more than this (absolute, e.g. 0.005). */
    maxIncrease: z.number().nonnegative(),
    /** Mixture sd of the sequential test; default: maxIncrease, or 0.01 when that is 0. */
    tau: positive.optional(),
  }),
  z.object({
    kind: z.literal('must-not-fall'),
    metric: z.string(),
    type: z.enum(['mean', 'rate']),
    /** The treatment's metric must not fall below the control's by more than this (absolute). */
    maxDrop: z.number().nonnegative(),
    /** Mixture sd of the sequential test; default: maxDrop (required when maxDrop is 0 for a mean). */
    tau: positive.optional(),
  }),
]);
export type Guardrail = z.infer<typeof guardrailSchema>;

export const rolloutPolicySchema = z.object({
  /** Significance of each sequential test (always-valid: holds however often it is checked). */
  alpha: z.number().gt(0).lt(0.5).default(0.05),
  /** The sample-ratio-mismatch flag: χ² p below this stops the rollout. */
  srmAlpha: z.number().gt(0).lt(0.5).default(0.001),
  /** No decision on a variant with fewer assigned players than this (the normal approximation). */
  minSamples: z.number().int().positive().default(200),
  /** The metric that decides promotion; none: the rollout can only be rolled back or promoted by hand. */
  primary: z
    .object({
      metric: z.string(),
      type: z.enum(['mean', 'rate']),
      /** Which way is better. */
      better: z.enum(['higher', 'lower']).default('higher'),
      /** The smallest absolute effect worth detecting: the mixture sd τ of the mSPRT. */
      minimumEffect: positive,
    })
    .optional(),
  guardrails: z.array(guardrailSchema).default([]),
});
export type RolloutPolicy = z.infer<typeof rolloutPolicySchema>;
export type RolloutPolicyInput = z.input<typeof rolloutPolicySchema>;
