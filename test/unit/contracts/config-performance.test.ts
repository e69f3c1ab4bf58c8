import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/adapters/config-file.js';
import {
  monitoringRuntimeConfig,
  monitoringRuntimeSchema,
} from '../../../lambdas/contracts/config-schema.js';

import { configError as errorOf, sampleConfig as sample } from '../../support/config-samples.js';

describe('models.<m>.monitoring.performance', () => {
  it('defaults to no thresholds, and reaches the monitoring functions’ runtime config when set', () => {
    expect(parseConfig(sample()).models.churn?.monitoring.performance).toEqual({ maxDrop: {} });
    const raw = sample();
    (raw.models.churn as Record<string, unknown>).monitoring = {
      performance: { maxDrop: { auc: 0.05, accuracy: 0.05 }, maxLatencyP95Ms: 250 },
    };
    const runtime = monitoringRuntimeConfig(parseConfig(raw));
    expect(runtime.models.churn?.performance).toEqual({
      maxDrop: { auc: 0.05, accuracy: 0.05 },
      maxLatencyP95Ms: 250,
    });
    // As the handler reads it back from its environment.
    expect(
      monitoringRuntimeSchema.parse(JSON.parse(JSON.stringify(runtime))).models.churn?.performance,
    ).toEqual(runtime.models.churn?.performance);
    // A runtime config written before the thresholds existed still parses: none.
    expect(
      monitoringRuntimeSchema.parse({ models: { churn: { target: 'churned', exclude: [] } } }).models.churn
        ?.performance,
    ).toEqual({ maxDrop: {} });
  });

  it('refuses a metric live batches do not measure, or a bad limit, naming the key', () => {
    const raw = sample();
    (raw.models.churn as Record<string, unknown>).monitoring = { performance: { maxDrop: { rmse: 3 } } };
    expect(errorOf(raw)).toMatch(/models\.churn\.monitoring\.performance\.maxDrop.*rmse/);
    (raw.models.churn as Record<string, unknown>).monitoring = { performance: { maxLatencyP95Ms: -5 } };
    expect(errorOf(raw)).toMatch(/models\.churn\.monitoring\.performance\.maxLatencyP95Ms/);
  });
});
