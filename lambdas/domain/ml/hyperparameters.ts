import { z } from 'zod';
import { describeZodError } from '../../contracts/zod-errors.js';
import { ValidationError } from '../errors.js';

/**
 * Hyperparameters travel as JSON in a container environment variable, and hand-written ones
 * may quote numbers: numeric strings are accepted, anything else (true, "fast") is refused.
 */
const numeric = (schema: z.ZodNumber) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v),
    schema,
  );

/** Hyperparameters of the reference trainer; any other key is refused by name. */
export const hyperparametersSchema = z.strictObject({
  /** Adam's base step size. */
  learningRate: numeric(z.number().gt(0).max(10)).default(0.05),
  epochs: numeric(z.number().int().min(1).max(10_000)).default(40),
  /** L2 penalty on the weights (not the intercept). */
  l2: numeric(z.number().min(0).max(100)).default(0.001),
  batchSize: numeric(z.number().int().min(1).max(1_000_000)).default(256),
  /** Seeds the weight initialisation, the shuffles and the holdout split. */
  seed: numeric(
    z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1),
  ).default(42),
  /**
   * Learning-rate schedule over epochs: cosine annealing lets the noisy mini-batch steps settle,
   * so small effects (one platform versus another) come out with the right sign.
   */
  schedule: z.enum(['cosine', 'constant']).default('cosine'),
  /** Stop when the holdout loss has not improved for this many epochs (0 = never). */
  earlyStoppingPatience: numeric(z.number().int().min(0)).default(0),
});
export type Hyperparameters = z.infer<typeof hyperparametersSchema>;

/** Validates hyperparameters; the error names each bad key and its value. */
export function parseHyperparameters(raw: unknown): Hyperparameters {
  const result = hyperparametersSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) {
    throw new ValidationError(
      `${describeZodError(result.error, 'hyperparameters')}\n` +
        `(allowed: ${Object.keys(hyperparametersSchema.shape).join(', ')})`,
    );
  }
  return result.data;
}
