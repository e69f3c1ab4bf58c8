import { describe, expect, it } from 'vitest';
import {
  loadModel,
  MODEL_FORMAT,
  type ModelArtifact,
  serializeModel,
} from '../../../lambdas/domain/ml/artifact.js';
import {
  predictOnSample,
  predictOnSchemaSample,
  schemaSampleRows,
} from '../../../lambdas/domain/ml/smoke-test.js';

/** logit = -1 + 2·z(minutes) + 0.5·[minutes missing] + 1·[android] − 1·[other platform]. */
const artifact: ModelArtifact = {
  format: MODEL_FORMAT,
  model: 'churn',
  target: 'churned',
  features: [
    { kind: 'numeric', name: 'minutes', mean: 20, std: 10, missingIndicator: true },
    { kind: 'categorical', name: 'platform', categories: ['ios', 'android'] },
  ],
  weights: [2, 0.5, 0, 1, -1],
  bias: -1,
  threshold: 0.5,
  trainedAt: '2026-01-01T00:00:00.000Z',
};
const model = loadModel(serializeModel(artifact));
const sigmoid = (z: number) => Math.round((1 / (1 + Math.exp(-z))) * 1e4) / 1e4;

describe('smoke-test samples', () => {
  it('rows from the feature schema: means, ±σ, learned and unseen categories, then all missing', () => {
    expect(schemaSampleRows(model, 5)).toEqual([
      { minutes: 20, platform: 'ios' },
      { minutes: 30, platform: 'android' },
      { minutes: 10, platform: '(unseen-platform)' },
      { minutes: 40, platform: 'ios' },
      { minutes: null, platform: null },
    ]);
    expect(predictOnSchemaSample(model, 5)).toEqual([
      sigmoid(-1),
      sigmoid(-1 + 2 + 1),
      sigmoid(-1 - 2 - 1),
      sigmoid(-1 + 4),
      sigmoid(-1 + 0.5 - 1),
    ]);
  });

  it('a real sample must carry every feature the model reads', () => {
    expect(predictOnSample(model, 'minutes,platform,churned\n30,ios,1\n', 5, 'the sample')).toEqual([
      sigmoid(1),
    ]);
    expect(() => predictOnSample(model, 'minutes,region\n30,eu\n', 5, 'the sample s3://b/x.csv')).toThrow(
      expect.objectContaining({
        name: 'ArtifactValidationError',
        message: expect.stringContaining(
          'the model reads "platform", which the sample s3://b/x.csv does not have',
        ),
      }),
    );
    expect(() => predictOnSample(model, 'minutes,platform\n', 5, 'the sample')).toThrow(
      expect.objectContaining({ name: 'DataError' }),
    );
  });
});
