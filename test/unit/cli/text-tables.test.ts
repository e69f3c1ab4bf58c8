import { describe, expect, it } from 'vitest';
import { formatComparison } from '../../../bin/cli/runs.js';
import { formatSweepStatus } from '../../../bin/cli/sweep.js';
import { compareRuns } from '../../../lambdas/domain/registry/run-comparison.js';
import type { SweepStatus, SweepTrialStatus } from '../../../lambdas/services/sweeps/sweep-status.js';
import { actingCharacters } from '../../support/control-chars.js';

const ESC = '\u001b';
/** What a hostile trainer (or whoever set a parameter or a note) could put in a cell. */
const HOSTILE = `died${ESC}]0;pwned\u0007${ESC}[2J\rapproved by ml-lead\u202Egnp.exe`;

const trial = (
  t: Partial<SweepTrialStatus> & Pick<SweepTrialStatus, 'trial' | 'runId'>,
): SweepTrialStatus => ({
  status: 'evaluated',
  parameters: {},
  value: null,
  reason: '',
  best: false,
  version: null,
  startedAt: '2026-12-01T13:50:33.000Z',
  trainingSeconds: 2,
  ...t,
});

/** The first trials of the README's sweep (a real session's values). */
const SWEEP: SweepStatus = {
  id: 'churn-staging-sweep-20261201T135033511Z-08af',
  model: 'churn',
  stage: 'staging',
  requestedBy: 'root@localhost',
  metric: 'auc',
  direction: 'max',
  rule: 'asha',
  planned: 8,
  concurrency: 2,
  trials: [
    trial({
      trial: 0,
      runId: '20261201T135033Z-fbb6f7',
      value: 0.84231,
      parameters: { learningRate: 0.000542138, l2: 0 },
    }),
    trial({
      trial: 1,
      runId: '20261201T135033Z-bf1f26',
      status: 'registered',
      value: 0.848512,
      parameters: { learningRate: 0.426313, l2: 0.01 },
      best: true,
      version: '1.0.0',
    }),
    trial({
      trial: 2,
      runId: '20261201T135038Z-f14bf7',
      status: 'stopped',
      parameters: { learningRate: 0.0183417, l2: 0.001 },
      reason:
        'ASHA rung 1 (epoch 3): trainLoss 0.4542 is not in the top 1 of the 4 trials at that rung (threshold 0.4529, min)',
    }),
  ],
  best: null,
};
const SWEEP_WITH_BEST: SweepStatus = { ...SWEEP, best: SWEEP.trials[1] ?? null };

describe('sweep status text', () => {
  it('is a table with a rule under its header, between the sweep and its best trial', () => {
    expect(formatSweepStatus(SWEEP_WITH_BEST).split('\n')).toEqual([
      'sweep churn-staging-sweep-20261201T135033511Z-08af: churn → staging, 3 of 8 trial(s), 2 at once, best by auc (max), early stopping asha',
      '',
      'TRIAL  RUN                      STATUS      AUC     PARAMETERS                     WHY',
      '-----  -----------------------  ----------  ------  -----------------------------  ----------------------------------------------------------------------------------------------------------------',
      '0      20261201T135033Z-fbb6f7  evaluated   0.8423  learningRate=0.0005421 l2=0',
      '1 *    20261201T135033Z-bf1f26  registered  0.8485  learningRate=0.4263 l2=0.01',
      '2      20261201T135038Z-f14bf7  stopped             learningRate=0.01834 l2=0.001  ASHA rung 1 (epoch 3): trainLoss 0.4542 is not in the top 1 of the 4 trials at that rung (threshold 0.4529, min)',
      '',
      'best: trial 1 (run 20261201T135033Z-bf1f26, auc 0.8485), registered as 1.0.0',
    ]);
    expect(formatSweepStatus({ ...SWEEP, trials: [] })).toContain('\n(none)\n\nbest: none yet');
  });

  it('a failure cause, stopped reason or parameter value cannot act on the terminal or break the table', () => {
    const hostile: SweepStatus = {
      ...SWEEP,
      trials: [
        trial({ trial: 0, runId: 'r0', status: 'failed', reason: HOSTILE }),
        trial({
          trial: 1,
          runId: 'r1',
          status: 'stopped',
          reason: `rung 0${ESC}[8m`,
          parameters: { optimizer: HOSTILE },
        }),
        trial({ trial: 2, runId: 'r2', value: 0.5, parameters: { [`k${ESC}[1A`]: 1 } }),
      ],
    };
    const text = formatSweepStatus(hostile);
    expect(actingCharacters(text)).toEqual([]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(2 + 2 + 3 + 2);
    const rule = lines[3] ?? '';
    expect(rule).toMatch(/^[- ]+$/);
    for (const l of lines.slice(2, 7)) expect(l.length).toBeLessThanOrEqual(rule.length);
    // Shown, not acted on: the reader sees that something was there.
    expect(lines[4]).toContain('died\uFFFD]0;pwned\uFFFD\uFFFD[2J approved by ml-lead\uFFFDgnp.exe');
    expect(lines[5]).toContain(`optimizer=died\uFFFD]0;pwned`);
  });
});

const run = (label: string, parameters: Record<string, string | number>, note: string) => ({
  label,
  facts: { dataset: 's3://b/datasets/churn/a.csv', note },
  parameters,
  metrics: label === '1.1.0' ? { auc: 0.8612, logLoss: 0.41 } : { auc: 0.8485, logLoss: 0.45 },
});

describe('runs compare text', () => {
  it('marks differences in a first column and the best metric with *, under a ruled header', () => {
    const rows = compareRuns([
      run('1.0.0', { epochs: 40, learningRate: 0.05 }, 'weekly'),
      run('1.1.0', { epochs: 60, learningRate: 0.05 }, 'weekly'),
    ]);
    expect(formatComparison(['1.0.0', '1.1.0'], rows).split('\n')).toEqual([
      '   SECTION    NAME          1.0.0                        1.1.0',
      '-  ---------  ------------  ---------------------------  ---------------------------',
      '   run        dataset       s3://b/datasets/churn/a.csv  s3://b/datasets/churn/a.csv',
      '   run        note          weekly                       weekly',
      '≠  parameter  epochs        40                           60',
      '   parameter  learningRate  0.0500                       0.0500',
      '≠  metric     auc           0.8485                       0.8612 *',
      '≠  metric     logLoss       0.4500                       0.4100 *',
      '≠ the runs differ; * the best value of a metric',
    ]);
  });

  it('a parameter value or note cannot act on the terminal or break the table', () => {
    const rows = compareRuns([
      run('a', { optimizer: HOSTILE }, `weekly${ESC}[2J`),
      run('b', { optimizer: 'adam', [`lr${ESC}[31m`]: 0.1 }, 'fine\r\u202Eevil'),
    ]);
    const text = formatComparison(['a', `b${ESC}]0;x\u0007`], rows);
    expect(actingCharacters(text)).toEqual([]);
    const lines = text.split('\n');
    const rule = lines[1] ?? '';
    expect(rule).toMatch(/^[- ]+$/);
    for (const l of lines.slice(0, -1)) expect(l.length).toBeLessThanOrEqual(rule.length);
    expect(text).toContain('died\uFFFD]0;pwned\uFFFD\uFFFD[2J approved by ml-lead\uFFFDgnp.exe');
    expect(text).toContain('fine \uFFFDevil');
  });
});
