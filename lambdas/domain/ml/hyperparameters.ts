import { z } from 'zod';
import { describeZodError } from '../../contracts/config-load.js';
import { ValidationError } from '../errors.js';

/** Hyperparameters of the reference trainer; anything else in the config is refused by name. */
export const hyperparametersSchema = z.strictObject({
  learningRate: z.coerce.number().gt(0).max(10).default(0.05),
  epochs: z.coerce.number().int().min(1).max(10_000).default(40),
  l2: z.coerce.number().min(0).max(100).default(0.001),
  batchSize: z.coerce.number().int().min(1).max(1_000_000).default(256),
  seed: z.coerce.number().int().default(42),
  /** Stop when the holdout loss has not improved for this many epochs (0 = never). */
  earlyStoppingPatience: z.coerce.number().int().min(0).default(0),
});
export type Hyperparameters = z.infer<typeof hyperparametersSchema>;

export function parseHyperparameters(raw: unknown): Hyperparameters {
  const result = hyperparametersSchema.safeParse(raw);
  if (!result.success) throw new ValidationError(describeZodError(result.error, 'hyperparameters'));
  return result.data;
}
