import { describe, expect, it } from 'vitest';
import {
  loadModel,
  MODEL_FORMAT,
  type ModelArtifact,
  predictProba,
  serializeModel,
} from '../../../lambdas/domain/ml/artifact.js';
import { evaluateModel } from '../../../lambdas/domain/ml/evaluate.js';
import { smokeTest } from '../../../lambdas/domain/ml/smoke-test.js';

/** A hand-written model: logit = -1 + 2·z(minutes) + 0.5·[missing] + 1·[android] − 1·[other platform]. */
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
const text = serializeModel(artifact);
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const corrupt = (change: (a: Record<string, unknown>) => void) => {
  const copy = JSON.parse(text) as Record<string, unknown>;
  change(copy);
  return JSON.stringify(copy);
};

describe('loadModel and predictProba', () => {
  it('scores rows with the stored preprocessing', () => {
    const model = loadModel(text);
    expect(predictProba(model, { minutes: 30, platform: 'ios' })).toBeCloseTo(sigmoid(-1 + 2), 12);
    expect(predictProba(model, { minutes: '10', platform: 'android' })).toBeCloseTo(sigmoid(-1 - 2 + 1), 12);
    expect(predictProba(model, { minutes: null, platform: 'switch' })).toBeCloseTo(sigmoid(-1 + 0.5 - 1), 12);
    expect(predictProba(model, { platform: 'ios', unused: 'x' })).toBeCloseTo(sigmoid(-1 + 0.5), 12);
  });

  it.each([
    ['text that is not JSON', '{"format": "mlcycle-logreg/v1", "weig', /not JSON/],
    [
      'another format',
      corrupt((a) => (a.format = 'onnx/v1')),
      /format "onnx\/v1"; this code reads mlcycle-logreg\/v1/,
    ],
    ['missing weights', corrupt((a) => delete a.weights), /weights: /],
    ['a null weight', corrupt((a) => ((a.weights as unknown[])[1] = null)), /weights\.1: /],
    [
      'a zero std',
      corrupt((a) => (((a.features as Record<string, unknown>[])[0] as Record<string, unknown>).std = 0)),
      /features\.0\.std/,
    ],
    ['too few weights', corrupt((a) => (a.weights as unknown[]).pop()), /4 weights for 5 inputs/],
    [
      'a repeated feature',
      corrupt(
        (a) =>
          ((a.features as Record<string, unknown>[])[1] = {
            kind: 'numeric',
            name: 'minutes',
            mean: 0,
            std: 1,
            missingIndicator: false,
          }),
      ),
      /"minutes" twice/,
    ],
    [
      'the target as a feature',
      corrupt((a) => (a.target = 'minutes')),
      /uses its target "minutes" as a feature/,
    ],
  ])('rejects %s with an ArtifactValidationError saying what is wrong', (_what, body, message) => {
    expect(() => loadModel(body)).toThrow(expect.objectContaining({ name: 'ArtifactValidationError' }));
    expect(() => loadModel(body)).toThrow(message);
  });
});

describe('evaluateModel', () => {
  const model = loadModel(text);

  it('reports metrics, counts, the confusion matrix and calibration', () => {
    const holdout = 'minutes,platform,churned\n30,ios,1\n10,ios,0\n25,android,1\n,pc,0\n';
    const report = evaluateModel(model, holdout);
    expect(report).toMatchObject({ rows: 4, positives: 2, positiveRate: 0.5, threshold: 0.5 });
    expect(report.confusion).toEqual({ tp: 2, fp: 0, tn: 2, fn: 0 });
    expect(report.metrics.auc).toBe(1);
  });

  it('fails with an EvaluationError on a single-class holdout or one without the target', () => {
    expect(() => evaluateModel(model, 'minutes,platform,churned\n30,ios,1\n10,ios,1\n')).toThrow(
      expect.objectContaining({
        name: 'EvaluationError',
        message: expect.stringMatching(/only positive \(1\) "churned" values in its 2 rows/),
      }),
    );
    expect(() => evaluateModel(model, 'minutes,platform\n30,ios\n')).toThrow(/no target column "churned"/);
  });
});

describe('smokeTest', () => {
  it('returns rounded probabilities for the first n rows and refuses a corrupt model', () => {
    const sample = 'minutes,platform\n30,ios\n10,android\n20,pc\n';
    expect(smokeTest(text, sample, 2)).toEqual([0.7311, 0.1192]);
    expect(() => smokeTest(text.slice(0, 40), sample, 2)).toThrow(
      expect.objectContaining({ name: 'ArtifactValidationError' }),
    );
  });
});
