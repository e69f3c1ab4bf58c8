import { describe, expect, it } from 'vitest';
import { monitoringKey, parseMonitoringKey } from '../../../lambdas/contracts/s3-layout.js';

describe('monitoring upload keys', () => {
  it('reads back what monitoringKey builds', () => {
    for (const kind of ['baseline', 'batches'] as const) {
      const key = monitoringKey('churn-v2', kind, 'day 1/part.csv.gz');
      expect(parseMonitoringKey(key)).toEqual({ model: 'churn-v2', kind, fileName: 'day 1/part.csv.gz' });
    }
  });

  it('is undefined for keys that are no monitoring upload', () => {
    for (const key of [
      'datasets/churn/train.csv',
      'monitoring/churn/other/x.csv',
      'monitoring/churn/batches/',
      'monitoring/Churn/batches/x.csv',
      'monitoring/churn/baseline',
      'reports/churn/drift/latest.json',
    ]) {
      expect(parseMonitoringKey(key)).toBeUndefined();
    }
  });
});
