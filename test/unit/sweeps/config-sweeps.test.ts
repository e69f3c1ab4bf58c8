import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/adapters/config-file.js';
import { attachTrainers } from '../../../local/trainers/config-trainers.js';
import { configError, sampleConfig } from '../../support/config-samples.js';

const withSweeps = (sweeps: unknown) => {
  const raw = sampleConfig();
  raw.models.churn = { ...raw.models.churn, sweeps };
  return raw;
};
const lr = { parameters: { learningRate: { logUniform: [0.001, 0.5] } }, trials: 6, metric: 'auc' };

describe('models.<model>.sweeps in the config', () => {
  it('keeps named sweeps with their defaults, checked against the trainer at load', () => {
    const config = attachTrainers(parseConfig(withSweeps({ lr }), 'test'));
    expect(config.models.churn?.sweeps?.lr).toMatchObject({
      ...lr,
      strategy: 'random',
      seed: 42,
      concurrency: 2,
    });
    expect(parseConfig(sampleConfig(), 'test').models.churn?.sweeps).toBeUndefined();
  });

  it('refuses a bad spec naming the key path', () => {
    expect(configError(withSweeps({ lr: { ...lr, concurrency: 0 } }))).toMatch(
      /models\.churn\.sweeps\.lr\.concurrency/,
    );
    expect(configError(withSweeps({ 'Bad Name': lr }))).toMatch(/models\.churn\.sweeps/);
  });

  it('refuses at load a sweep the trainer schema refuses, as --set would', () => {
    const config = parseConfig(
      withSweeps({ lr: { ...lr, parameters: { learningRat: { grid: [0.1] } } } }),
      'test',
    );
    expect(() => attachTrainers(config, 'mlcycle.config.yaml')).toThrow(
      /mlcycle\.config\.yaml: models\.churn\.sweeps\.lr: model churn: sweep parameters\.learningRat=0\.1: not a hyperparameter of containers\/trainer; did you mean learningRate\?/,
    );
  });
});
