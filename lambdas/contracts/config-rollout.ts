import { z } from 'zod';
import { rolloutPolicySchema } from './rollout-evidence.js';

/**
 * `models.<m>.rollout`: how the model's rollouts decide (the policy `decide()` applies: alpha,
 * minimum samples, primary metric, guardrails; docs/rollouts.md) and which columns of a
 * monitoring batch carry the variant, the player and the outcomes. Server side: `rollout status`
 * and the automatic abort read it from the deployed config, never from a caller.
 */
export const rolloutConfigSchema = z.strictObject({
  policy: rolloutPolicySchema.prefault({}),
  columns: z
    .strictObject({
      variant: z.string().default('variant'),
      player: z.string().default('player_id'),
      /**
       * A column the client sets (1/true/yes) on the one event it logs when a player is first
       * assigned: only those rows count players, once over the whole rollout, so the
       * sample-ratio check stays exact when the same players appear in every batch. Without it,
       * distinct players per batch (docs/rollouts.md "Players across batches").
       */
      exposure: z.string().optional(),
      latencyMs: z.string().optional(),
      error: z.string().optional(),
      outcomes: z.record(z.string(), z.enum(['mean', 'rate'])).default({}),
    })
    .prefault({}),
});
export type RolloutConfig = z.infer<typeof rolloutConfigSchema>;
