import { describe, expect, it } from 'vitest';
import type { Severity } from '../../../lambdas/contracts/drift-summary.js';
import { recentDrift, windowStart } from '../../../lambdas/domain/drift/recent.js';
import type { DriftRecord } from '../../../lambdas/domain/drift/record.js';

const NOW = new Date('2030-03-10T12:00:00.000Z');
const WINDOW = { days: 7, batches: 100 };
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();

function record(
  id: string,
  h: number,
  overallSeverity: Severity,
  more: Partial<DriftRecord> = {},
): DriftRecord {
  return {
    model: 'churn',
    batchId: id,
    batchKey: `monitoring/churn/batches/${id}.csv`,
    kind: 'batch',
    checkedAt: hoursAgo(h),
    status: 'ok',
    overallSeverity,
    driftedShare: overallSeverity === 'none' ? 0 : 0.5,
    rows: 5000,
    features: [],
    alerted: false,
    ...more,
  };
}

describe('the worst recent batch', () => {
  it('a 50-row "insufficient data" latest batch does not hide an earlier "high"', () => {
    const records = [
      record('monday', 72, 'low'),
      record('tuesday', 48, 'high'),
      record('wednesday', 24, 'medium'),
      record('tiny', 1, 'none', { status: 'insufficient-data', rows: 50 }),
    ];
    const r = recentDrift(records, NOW, WINDOW);
    expect(r.latest?.batchId).toBe('tiny');
    expect(r.worst?.batchId).toBe('tuesday');
    expect(r.worst?.overallSeverity).toBe('high');
    expect(r.checked).toBe(4);
    expect(r.since).toBe(windowStart(NOW, WINDOW).toISOString());
    // the order records come in does not matter
    expect(recentDrift([...records].reverse(), NOW, WINDOW).worst?.batchId).toBe('tuesday');
  });

  it('of batches equally severe, the newest is the worst; when all are fine the worst is the latest', () => {
    const r = recentDrift(
      [record('a', 50, 'high'), record('b', 30, 'high'), record('c', 10, 'low')],
      NOW,
      WINDOW,
    );
    expect(r.worst?.batchId).toBe('b');
    const calm = recentDrift([record('a', 50, 'none'), record('b', 5, 'none')], NOW, WINDOW);
    expect(calm.worst?.batchId).toBe('b');
    expect(calm.latest?.batchId).toBe('b');
  });

  it('only batch checks inside the window count: not baselines, not older ones, not future-dated ones', () => {
    const r = recentDrift(
      [
        record('old-critical', 7 * 24 + 1, 'critical'),
        record('baseline', 3, 'critical', { kind: 'baseline' }),
        record('future', -2, 'critical'),
        record('edge', 7 * 24, 'medium'),
        record('recent', 2, 'low'),
      ],
      NOW,
      WINDOW,
    );
    expect(r.worst?.batchId).toBe('edge');
    expect(r.latest?.batchId).toBe('recent');
    expect(r.checked).toBe(2);
  });

  it('failed uploads are counted apart, never the latest or the worst; a degraded batch counts with its status', () => {
    const r = recentDrift(
      [
        record('degraded', 20, 'high', { status: 'degraded', skippedRows: 400 }),
        record('ok', 10, 'low'),
        record('broken', 1, 'none', { status: 'error', error: 'binary file' }),
      ],
      NOW,
      WINDOW,
    );
    expect(r.latest?.batchId).toBe('ok');
    expect(r.worst?.batchId).toBe('degraded');
    expect(r.worst?.status).toBe('degraded');
    expect(r.failed.count).toBe(1);
    expect(r.failed.latest?.error).toBe('binary file');
  });

  it('the window keeps at most the newest `batches` batches', () => {
    const records = [record('early-high', 100, 'high'), record('x', 50, 'low'), record('y', 5, 'none')];
    expect(recentDrift(records, NOW, { days: 7, batches: 3 }).worst?.batchId).toBe('early-high');
    const capped = recentDrift(records, NOW, { days: 7, batches: 2 });
    expect(capped.worst?.batchId).toBe('x');
    expect(capped.checked).toBe(2);
    // and a shorter window in days drops it just the same
    expect(recentDrift(records, NOW, { days: 3, batches: 100 }).worst?.batchId).toBe('x');
  });

  it('no batch in the window: no latest, no worst', () => {
    const r = recentDrift([record('old', 30 * 24, 'critical')], NOW, WINDOW);
    expect(r).toMatchObject({ latest: null, worst: null, checked: 0, failed: { count: 0, latest: null } });
  });
});
