import type { RunPageInput } from '../../lambdas/domain/registry/run-page.js';

/** A seeded learning curve: loss falling, AUC rising, with a little seeded noise. */
export function epochs(n: number, seed: number, rate: number) {
  let s = seed;
  const noise = () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return (s / 2 ** 31 - 0.5) * 0.01;
  };
  return Array.from({ length: n }, (_, i) => ({
    epoch: i + 1,
    trainLoss: 0.7 * Math.exp(-rate * i) + 0.2 + noise(),
    holdoutLoss: 0.7 * Math.exp(-rate * i * 0.8) + 0.25 + noise(),
    holdoutAuc: 0.9 - 0.4 * Math.exp(-rate * i) + noise(),
    learningRate: 0.05,
  }));
}

export const sampleRun = (over: Partial<RunPageInput> = {}): RunPageInput => ({
  model: 'churn',
  runId: '20301201T000000Z-aaaaaa',
  status: 'registered',
  stage: 'staging',
  trigger: 'manual',
  requestedBy: 'scientist@studio.test',
  startedAt: '2030-12-01T00:00:00.000Z',
  durationSeconds: 42,
  version: '1.3.0',
  datasetUri: 's3://bucket/datasets/churn/d.csv',
  datasetSha256: 'ab'.repeat(32),
  note: 'deeper',
  failure: null,
  cancelled: null,
  logs: null,
  parameters: { epochs: 12, learningRate: 0.05, l2: 0.001 },
  overrides: { learningRate: 0.05 },
  metrics: { auc: 0.8123, accuracy: 0.74 },
  reportedMetrics: { validationAuc: 0.8 },
  epochs: epochs(12, 7, 0.3),
  ...over,
});
