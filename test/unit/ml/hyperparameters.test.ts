import { describe, expect, it } from 'vitest';
import { parseHyperparameters } from '../../../lambdas/domain/ml/hyperparameters.js';

describe('parseHyperparameters', () => {
  it('fills defaults and accepts numbers written as strings', () => {
    expect(parseHyperparameters({ epochs: '12', learningRate: 0.1 })).toEqual({
      learningRate: 0.1,
      epochs: 12,
      l2: 0.001,
      batchSize: 256,
      seed: 42,
      schedule: 'cosine',
      earlyStoppingPatience: 0,
    });
  });

  it('names the hyperparameter and the bad value', () => {
    expect(() => parseHyperparameters({ learningRate: -1 })).toThrow(
      expect.objectContaining({
        name: 'ValidationError',
        message: expect.stringMatching(/learningRate: got -1/),
      }),
    );
    expect(() => parseHyperparameters({ epochs: 2.5 })).toThrow(/epochs: got 2\.5/);
    expect(() => parseHyperparameters({ batchSize: true })).toThrow(/batchSize: got true/);
    expect(() => parseHyperparameters({ l2: 'lots' })).toThrow(/l2: got "lots"/);
  });

  it('refuses an unknown hyperparameter by name and lists the allowed ones', () => {
    expect(() => parseHyperparameters({ learningRat: 0.1 })).toThrow(
      /"learningRat"[\s\S]*allowed: learningRate, epochs/,
    );
  });
});
