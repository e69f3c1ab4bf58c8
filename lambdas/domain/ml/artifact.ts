import { z } from 'zod';
import { ArtifactValidationError } from '../errors.js';
import { encode, type FeatureSpec, type RawRow, width } from './features.js';
import { score } from './logistic-regression.js';

export const MODEL_FORMAT = 'mlcycle-logreg/v1';

const featureSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('numeric'),
    name: z.string(),
    mean: z.number().finite(),
    std: z.number().finite().positive(),
    missingIndicator: z.boolean(),
  }),
  z.object({ kind: z.literal('categorical'), name: z.string(), categories: z.array(z.string()) }),
]);

export const modelArtifactSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  model: z.string(),
  target: z.string(),
  features: z.array(featureSchema).min(1),
  weights: z.array(z.number().finite()),
  bias: z.number().finite(),
  threshold: z.number().gt(0).lt(1),
  trainedAt: z.string(),
});
export type ModelArtifact = z.infer<typeof modelArtifactSchema>;

/** A model ready to score rows. */
export interface LoadedModel {
  readonly artifact: ModelArtifact;
  readonly features: readonly FeatureSpec[];
  readonly buffer: Float64Array;
}

export function serializeModel(artifact: ModelArtifact): string {
  return `${JSON.stringify(artifact, null, 1)}\n`;
}

/** Parses and checks an artifact: format, shape, and weights aligned with the inputs. */
export function loadModel(text: string): LoadedModel {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ArtifactValidationError(
      'model artifact is not JSON (truncated or not a mlcycle model?)',
      undefined,
      { cause: err },
    );
  }
  const format = (raw as { format?: unknown } | null)?.format;
  if (typeof format === 'string' && format !== MODEL_FORMAT) {
    throw new ArtifactValidationError(
      `model artifact has format "${format}"; this code reads ${MODEL_FORMAT} only (retrain, or deploy with a matching trainer version)`,
    );
  }
  const parsed = modelArtifactSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new ArtifactValidationError(`model artifact is not a valid ${MODEL_FORMAT} model: ${problems}`);
  }
  const artifact = parsed.data;
  const names = artifact.features.map((f) => f.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated !== undefined) {
    throw new ArtifactValidationError(`model artifact lists the feature "${repeated}" twice; it is corrupt`);
  }
  if (names.includes(artifact.target)) {
    throw new ArtifactValidationError(`model artifact uses its target "${artifact.target}" as a feature`);
  }
  const inputs = artifact.features.reduce((n, f) => n + width(f), 0);
  if (inputs !== artifact.weights.length) {
    throw new ArtifactValidationError(
      `model artifact has ${artifact.weights.length} weights for ${inputs} inputs; it is corrupt`,
    );
  }
  return { artifact, features: artifact.features, buffer: new Float64Array(inputs) };
}

/**
 * P(target = 1) for one row; missing or unseen values are handled as in training and columns
 * the model does not use are ignored. Reuses the model's input buffer: not for concurrent use
 * across threads (JavaScript has none here).
 */
export function predictProba(model: LoadedModel, row: RawRow): number {
  return score(encode(model.features, row, model.buffer), model.artifact.weights, model.artifact.bias);
}
