import { describe, expect, it } from 'vitest';
import type { DriftRecord } from '../../../lambdas/domain/drift/record.js';
import { summarizeTrend } from '../../../lambdas/domain/drift/trend.js';

const record = (checkedAt: string, driftedShare: number, over: Partial<DriftRecord> = {}): DriftRecord => ({
  model: 'churn',
  batchId: checkedAt,
  batchKey: `monitoring/churn/batches/${checkedAt}.csv`,
  kind: 'batch',
  checkedAt,
  status: 'ok',
  overallSeverity: 'none',
  driftedShare,
  rows: 100,
  features: [],
  alerted: false,
  ...over,
});

describe('drift report trend', () => {
  it('sums up batches per day (mean drifted share, worst severity) and the most drifted features', () => {
    const trend = summarizeTrend(
      [
        record('2026-11-24T09:00:00.000Z', 0.25, {
          overallSeverity: 'medium',
          features: [{ name: 'x', method: 'ks-beyond-noise', score: 0.2, severity: 'medium' }],
        }),
        record('2026-11-23T10:00:00.000Z', 0.5, {
          overallSeverity: 'high',
          features: [
            { name: 'x', method: 'ks-beyond-noise', score: 0.3, severity: 'high' },
            { name: 'y', method: 'ks-beyond-noise', score: 0, severity: 'none' },
          ],
        }),
        record('2026-11-23T18:00:00.000Z', 0, { status: 'error' }),
        record('2026-11-22T08:00:00.000Z', 0, { kind: 'baseline' }),
      ],
      7,
    );
    expect(trend.batches).toBe(3);
    expect(trend.errors).toBe(1);
    expect(trend.worstSeverity).toBe('high');
    expect(trend.days).toEqual([
      { day: '2026-11-23', batches: 2, worstSeverity: 'high', meanDriftedShare: 0.25 },
      { day: '2026-11-24', batches: 1, worstSeverity: 'medium', meanDriftedShare: 0.25 },
    ]);
    expect(trend.topFeatures).toEqual([{ name: 'x', drifted: 2, worstSeverity: 'high' }]);
  });
});
