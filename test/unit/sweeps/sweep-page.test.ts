import { describe, expect, it } from 'vitest';
import { renderSweepPage, type SweepPageInput } from '../../../lambdas/domain/sweeps/sweep-page.js';

const trial = (i: number, status: string, lr: number, value: number | null, extra: object = {}) => ({
  trial: i,
  runId: `r${i}`,
  status,
  parameters: { learningRate: lr, penalty: 'l2' },
  value,
  reason: status === 'stopped' ? `ASHA rung 1: auc 0.61 below the rung's top third (0.74)` : '',
  best: false,
  version: null,
  startedAt: new Date(Date.UTC(2026, 11, 1, 12, 0, i * 5)).toISOString(),
  trainingSeconds: 10 + i,
  ...extra,
});

const input: SweepPageInput = {
  id: 'churn-staging-sweep-1',
  model: 'churn',
  stage: 'staging',
  requestedBy: 'dana@studio.example',
  metric: 'auc',
  direction: 'max',
  rule: 'asha',
  planned: 5,
  concurrency: 2,
  trials: [
    trial(0, 'evaluated', 0.001, 0.71),
    trial(1, 'stopped', 0.3, null),
    trial(2, 'evaluated', 0.05, 0.8512, { best: true, version: '1.4.0' }),
    trial(3, 'failed', 0.01, null),
    trial(4, 'evaluated', 0.1, 0.8),
  ],
};

describe('the sweep page', () => {
  const html = renderSweepPage(input, '2026-12-01T12:10:00Z');

  it('plots every trial over time and against each numeric parameter, stopped and failed ones hollow', () => {
    // two scatters (over time, against learningRate), one circle per trial each
    expect(html.match(/<circle class="trial"/g)).toHaveLength(10);
    expect(html.match(/<circle class="trial"[^>]*fill="none"/g)).toHaveLength(4);
    expect(html).toContain('auc against learningRate');
    // learningRate spans 0.001–0.3 (more than two decades): a log axis
    expect(html).toContain('learningRate (log scale)');
    // the string parameter has no plot, but is in the table
    expect(html).not.toContain('against penalty');
    expect(html).toContain('<th>penalty</th>');
  });

  it('the best so far only ever improves, and the chosen trial is marked', () => {
    const best = /data-label="best auc" d="([^"]+)"/.exec(html)?.[1] ?? '';
    const ys = [...best.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys.length).toBeGreaterThan(1);
    // SVG y grows downwards: an improving maximum never goes down the page
    for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeLessThanOrEqual(ys[i - 1] as number);
    expect(html).toContain('#2 ★');
    expect(html).toContain('<td class="best">0.8512</td>');
    expect(html).toContain('3 measured, 1 stopped early, 1 failed');
    expect(html).toContain('ASHA rung 1: auc 0.61 below the rung&#39;s top third (0.74)');
  });

  it('is inert: no script, no external reference', () => {
    expect(html).not.toMatch(/<script|src="http|href="http/);
  });
});
