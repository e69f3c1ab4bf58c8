import { describe, expect, it } from 'vitest';
import { readSweepSpec } from '../../../bin/cli/sweep.js';
import { planSweep } from '../../../lambdas/domain/sweeps/plan.js';
import { loadRunnableConfig } from '../../../local/trainers/config-trainers.js';

/** The example specs the README and docs/sweeps.md start, planned as `sweep start` plans them. */
describe('example sweep specs', () => {
  const config = loadRunnableConfig('mlcycle.config.yaml');
  for (const [model, file, trials] of [
    ['churn', 'examples/sweep.yaml', 8],
    ['segments', 'examples/sweep-segments.yaml', 6],
  ] as const) {
    it(`${file} plans against ${model}'s trainer`, () => {
      const m = config.models[model];
      if (!m) throw new Error(`the sample config has no ${model}`);
      const plan = planSweep(
        { model, task: m.task, trainer: config.trainers?.[model], base: m.training.hyperparameters },
        readSweepSpec(file),
        'example',
      );
      expect(plan.trials).toHaveLength(trials);
      expect(plan.rules.earlyStopping.rule).toBe('asha');
    });
  }
});
