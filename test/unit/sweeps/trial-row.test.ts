import { describe, expect, it } from 'vitest';
import { type TrialRun, trialRow } from '../../../lambdas/domain/sweeps/trial-row.js';

const run = (over: Partial<TrialRun>): TrialRun => ({
  model: 'churn',
  runId: 'r-1',
  stage: 'staging',
  status: 'evaluated',
  trigger: 'manual',
  requestedBy: 'a@studio.test',
  reason: 'sweep',
  datasetUri: 's3://b/datasets/churn/churn.csv',
  hyperparameters: { learningRate: 0.1, epochs: 40 },
  overrides: { learningRate: 0.1 },
  startedAt: '2026-12-01T12:00:00.000Z',
  sweep: { id: 'churn-staging-sweep-1', trial: 3 },
  ...over,
});

/** The one mapping of a trial's run to the row `sweep status`, the sweep page and the approval page show. */
describe('trialRow', () => {
  it('carries the swept parameters and the measured metric, never the trainer-reported one', () => {
    const row = trialRow(run({ metrics: { auc: 0.84, accuracy: 0.8 } }), 'auc');
    expect(row).toMatchObject({ trial: 3, runId: 'r-1', parameters: { learningRate: 0.1 }, value: 0.84 });
    expect(trialRow(run({}), 'auc').value).toBeNull();
    expect(trialRow(run({ overrides: undefined }), 'auc').parameters).toEqual({});
  });

  it('says why a trial ended early: the rule for a stopped one, the cause or else the error for a failed one', () => {
    const stopped = run({
      status: 'stopped',
      sweep: { id: 's', trial: 1, stopped: 'asha: trainLoss 0.61 after epoch 3 is not in the top 1/3' },
    });
    expect(trialRow(stopped, 'auc').reason).toMatch(/^asha: /);
    const failed = (cause: string) =>
      run({ status: 'failed', failure: { kind: 'trial', error: 'TrainingFailed', cause } });
    expect(trialRow(failed('the trainer exited 1'), 'auc').reason).toBe('the trainer exited 1');
    expect(trialRow(failed(''), 'auc').reason).toBe('TrainingFailed');
    const cancelled = run({
      status: 'cancelled',
      cancelled: { by: 'lead@studio.test', at: '2026-12-01T12:05:00.000Z', reason: 'wrong dataset' },
    });
    expect(trialRow(cancelled, 'auc').reason).toBe('cancelled by lead@studio.test: wrong dataset');
    expect(trialRow(run({}), 'auc').reason).toBe('');
  });
});
