import { describe, expect, it } from 'vitest';
import { parseSince } from '../../../bin/cli/runs.js';
import { compareRuns } from '../../../lambdas/domain/registry/run-comparison.js';

const run = (label: string, parameters: Record<string, number>, metrics: Record<string, number>) => ({
  label,
  facts: { dataset: 's3://b/datasets/churn/a.csv' },
  parameters,
  metrics,
});

describe('compareRuns (runs compare)', () => {
  it('lines up every parameter and metric any run has, marking differences and the best metric', () => {
    const rows = compareRuns([
      run('a', { epochs: 40, l2: 0.001 }, { auc: 0.84, logLoss: 0.45 }),
      run('b', { epochs: 60 }, { auc: 0.86, logLoss: 0.41 }),
      run('c', { epochs: 40, l2: 0.001 }, { auc: 0.85, logLoss: 0.5 }),
    ]);
    const by = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(by.dataset).toMatchObject({ section: 'run', differs: false });
    expect(by.epochs).toMatchObject({ section: 'parameter', values: [40, 60, 40], differs: true });
    // A parameter one run did not set differs, and shows as null there.
    expect(by.l2).toMatchObject({ values: [0.001, null, 0.001], differs: true });
    // Higher AUC is better, lower log loss is better.
    expect(by.auc).toMatchObject({ section: 'metric', best: 1 });
    expect(by.logLoss).toMatchObject({ best: 1 });
  });

  it('marks no best where only one run has the metric, and refuses fewer than two runs', () => {
    const rows = compareRuns([run('a', {}, { rmse: 3 }), run('b', {}, {})]);
    expect(rows.find((r) => r.name === 'rmse')).not.toHaveProperty('best');
    expect(() => compareRuns([run('a', {}, {})])).toThrow(
      'compare needs at least two runs or versions, got 1',
    );
  });
});

describe('parseSince (runs list --since)', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  it('reads durations and times, and names a bad value', () => {
    expect(parseSince('7d', now).toISOString()).toBe('2026-11-24T12:00:00.000Z');
    expect(parseSince('12h', now).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(parseSince('2026-11-01T00:00:00Z', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(() => parseSince('last week', now)).toThrow('--since "last week" is not a duration or a time');
  });
});

describe('pipeline start --note', () => {
  it('is the run’s reason, and refuses a different --reason beside it', async () => {
    const { reasonOf } = await import('../../../bin/cli/pipeline.js');
    expect(reasonOf('', 'lr sweep, trial 3')).toBe('lr sweep, trial 3');
    expect(reasonOf('weekly', undefined)).toBe('weekly');
    expect(reasonOf('same', 'same')).toBe('same');
    expect(() => reasonOf('weekly', 'other')).toThrow('--reason and --note are the same field');
  });
});
