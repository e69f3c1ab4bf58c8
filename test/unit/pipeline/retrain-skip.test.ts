import { describe, expect, it } from 'vitest';
import { retrainSkip, skippedReason } from '../../../lambdas/domain/pipeline/retrain-skip.js';
import type { Lineage } from '../../../lambdas/domain/registry/types.js';

const SHA = 'a1'.repeat(32);
const OTHER = 'b2'.repeat(32);
const candidate = {
  model: 'churn',
  stage: 'production',
  datasetUri: 's3://bucket/datasets/churn/weekly.csv',
  datasetSha256: SHA,
  hyperparameters: { epochs: 6, learningRate: 0.1 },
};
const serving = (lineage: Partial<Lineage> = {}) => ({
  version: '1.4.0',
  lineage: {
    parentVersion: null,
    datasetUri: 's3://bucket/datasets/churn/weekly.csv',
    datasetSha256: SHA,
    codeVersion: 'c0ffee1',
    runId: 'r1',
    // The trainer records its defaults too (seed here): keys the run does not set are not compared.
    hyperparameters: { epochs: 6, learningRate: 0.1, seed: 7 },
    framework: 'mlcycle-logreg@1.0.0',
    artifactUri: 's3://bucket/runs/churn/r1/model.json',
    artifactSha256: 'c'.repeat(64),
    author: 'a@studio.test',
    ...lineage,
  },
});

describe('retrainSkip', () => {
  it('skips a run on the serving version’s dataset and hyperparameters, naming hash, version and --force', () => {
    const skip = retrainSkip(candidate, serving(), false);
    expect(skip).toEqual({ datasetSha256: SHA, servingVersion: '1.4.0', reason: expect.any(String) });
    expect(skip?.reason).toContain(`sha256 ${SHA}`);
    expect(skip?.reason).toContain('churn 1.4.0, serving production');
    expect(skip?.reason).toContain('s3://bucket/datasets/churn/weekly.csv');
    expect(skip?.reason).toContain('pass --force to train anyway');
    expect(skip?.reason).not.toContain('\n');
  });

  it('compares values as the trainer may have coerced them (6 and "6" are the same setting)', () => {
    expect(retrainSkip({ ...candidate, hyperparameters: { epochs: '6' } }, serving(), false)).not.toBeNull();
  });

  it('trains when forced, when nothing serves, on a new dataset, or with other hyperparameters', () => {
    expect(retrainSkip(candidate, serving(), true)).toBeNull();
    expect(retrainSkip(candidate, undefined, false)).toBeNull();
    expect(retrainSkip({ ...candidate, datasetSha256: OTHER }, serving(), false)).toBeNull();
    expect(
      retrainSkip({ ...candidate, hyperparameters: { epochs: 7, learningRate: 0.1 } }, serving(), false),
    ).toBeNull();
    // A setting the serving version was not trained with is new too.
    expect(
      retrainSkip(
        { ...candidate, hyperparameters: { ...candidate.hyperparameters, l2: 0.01 } },
        serving(),
        false,
      ),
    ).toBeNull();
  });

  it('never skips against a version without a recorded dataset hash (registered from outside)', () => {
    expect(
      retrainSkip({ ...candidate, datasetSha256: '' }, serving({ datasetSha256: '' }), false),
    ).toBeNull();
  });
});

describe('skippedReason', () => {
  const output = (cause: unknown) =>
    JSON.stringify({ model: 'churn', skipped: { Error: 'RetrainSkipped', Cause: cause } });

  it('reads the message of a Lambda error cause (AWS) or a plain-text cause (local engine)', () => {
    expect(
      skippedReason(output(JSON.stringify({ errorType: 'RetrainSkipped', errorMessage: 'why', trace: [] }))),
    ).toBe('why');
    expect(skippedReason(output('why, plainly'))).toBe('why, plainly');
  });

  it('is null for an execution that did not skip, or an output that is not JSON', () => {
    expect(skippedReason(JSON.stringify({ model: 'churn' }))).toBeNull();
    expect(skippedReason(undefined)).toBeNull();
    expect(skippedReason('{not json')).toBeNull();
    expect(skippedReason('null')).toBeNull();
  });
});
