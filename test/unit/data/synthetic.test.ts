import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SYNTHETIC_DATASETS, syntheticDatasetFor } from '../../../local/data/synthetic.js';

describe('synthetic datasets', () => {
  it('each table has its target column, and is chosen by a model’s target whatever the model is called', () => {
    for (const d of SYNTHETIC_DATASETS) {
      const header = d.csv(100, 1).split('\n')[0]?.split(',') ?? [];
      expect(header, d.model).toContain(d.target);
      expect(syntheticDatasetFor(d.target)).toBe(d);
    }
    expect(syntheticDatasetFor('revenue_7d')).toBeUndefined();
  });

  it('every model of the sample config has one (the demo and `datasets generate` upload it)', () => {
    const config = parse(readFileSync('mlcycle.config.yaml', 'utf8')) as {
      models: Record<string, { target: string }>;
    };
    for (const [model, { target }] of Object.entries(config.models)) {
      expect(syntheticDatasetFor(target)?.model, model).toBe(model);
    }
  });
});
