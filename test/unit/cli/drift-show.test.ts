import { describe, expect, it } from 'vitest';
import { show } from '../../../bin/cli/drift.js';
import type { CliContext } from '../../../bin/cli/types.js';
import type { DriftRecord } from '../../../lambdas/domain/drift/record.js';

const record: DriftRecord = {
  model: 'churn',
  batchId: 'b1',
  batchKey: 'monitoring/churn/batches/day1.csv',
  kind: 'batch',
  checkedAt: '2030-03-01T00:00:00.000Z',
  status: 'ok',
  overallSeverity: 'none',
  driftedShare: 0,
  rows: 3000,
  features: [],
  alerted: true,
  performanceBreaches: [
    { metric: 'accuracy', value: 0.25, reference: 0.75, threshold: 0.05 },
    { metric: 'latencyP95Ms', value: 331.5, reference: null, threshold: 250 },
  ],
};

describe('drift check output', () => {
  it('prints each live-performance breach of a batch without drift, on its own line', () => {
    const printed: string[] = [];
    const ctx = {
      output: { json: false, result: (_v: unknown, human: () => string) => printed.push(human()) },
    } as unknown as CliContext;
    show(ctx, record);
    const lines = (printed[0] ?? '').split('\n');
    expect(lines).toContain('overall none; 0% of features drifted; 3000 rows');
    expect(lines).toContain(
      "performance: accuracy fell to 0.25 from 0.75 at the serving version's evaluation (by 0.5, more than models.churn.monitoring.performance.maxDrop.accuracy 0.05)",
    );
    expect(lines).toContain(
      'performance: p95 latency 331.5 ms is over models.churn.monitoring.performance.maxLatencyP95Ms 250 ms',
    );
  });

  it('prints no performance line for a batch without breaches', () => {
    const printed: string[] = [];
    const ctx = {
      output: { json: false, result: (_v: unknown, human: () => string) => printed.push(human()) },
    } as unknown as CliContext;
    const { performanceBreaches: _none, ...calm } = record;
    show(ctx, calm);
    expect(printed[0]).not.toContain('performance:');
  });
});
