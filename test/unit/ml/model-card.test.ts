import { describe, expect, it } from 'vitest';
import { MODEL_FORMAT, type ModelArtifact } from '../../../lambdas/domain/ml/artifact.js';
import { buildModelCard, modelCardMarkdown } from '../../../lambdas/domain/ml/model-card.js';
import type { TrainingSummary } from '../../../lambdas/domain/ml/training-summary.js';

const artifact: ModelArtifact = {
  format: MODEL_FORMAT,
  model: 'churn',
  target: 'churned',
  features: [
    { kind: 'numeric', name: 'sessions', mean: 6, std: 3, missingIndicator: false },
    { kind: 'categorical', name: 'platform', categories: ['ios', 'pc'] },
  ],
  weights: [-1.23456, 0.2, -0.4, 0.05],
  bias: -0.7,
  threshold: 0.5,
  trainedAt: '2026-01-01T00:00:00.000Z',
};
const summary: TrainingSummary = {
  model: 'churn',
  runId: 'run-7',
  artifactUri: 's3://b/runs/churn/run-7/model.json',
  sha256: 'a'.repeat(64),
  framework: 'mlcycle-logreg',
  frameworkVersion: '1.1.0',
  target: 'churned',
  features: [
    { name: 'sessions', kind: 'numeric' },
    { name: 'platform', kind: 'categorical' },
  ],
  trainRows: 800,
  holdoutRows: 200,
  hyperparameters: { epochs: 40, learningRate: 0.05, schedule: 'cosine' },
  datasetUri: 's3://b/datasets/churn/d.csv',
  datasetSha256: 'b'.repeat(64),
  codeVersion: 'abc123',
  epochs: 40,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:01:00.000Z',
  finalTrainLoss: 0.48,
};

describe('model card', () => {
  const card = buildModelCard(summary, artifact, { auc: 0.84123, f1: 0.64 });

  it('records data lineage, hyperparameters, metrics and the largest coefficients first', () => {
    expect(card.data).toEqual({
      datasetUri: 's3://b/datasets/churn/d.csv',
      datasetSha256: 'b'.repeat(64),
      trainRows: 800,
      holdoutRows: 200,
    });
    expect(card.hyperparameters).toEqual(summary.hyperparameters);
    expect(card.topCoefficients.map((c) => c.input)).toEqual([
      'sessions',
      'platform=pc',
      'platform=ios',
      'platform=(other)',
    ]);
    expect(card.topCoefficients[0]?.weight).toBe(-1.2346);
    expect(card.intendedUse).toContain('P(churned = 1)');
    expect(card.limitations.length).toBeGreaterThan(2);
  });

  it('renders Markdown with every section an approver reads', () => {
    const md = modelCardMarkdown(card);
    for (const heading of [
      'Intended use',
      'Training data',
      'Hyperparameters',
      'Evaluation',
      'Largest coefficients',
      'Limitations',
    ]) {
      expect(md).toContain(`## ${heading}`);
    }
    expect(md).toContain('800 training rows and 200 held-out rows');
    expect(md).toContain(`sha256 \`${'b'.repeat(64)}\``);
    expect(md).toContain('| auc | 0.8412 |');
    expect(md).toContain('| learningRate | 0.05 |');
    expect(md).toContain('| sessions | -1.2346 |');
  });
});
