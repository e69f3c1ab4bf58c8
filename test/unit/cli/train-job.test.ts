import { describe, expect, it } from 'vitest';
import { readTrainingJob } from '../../../bin/cli/train.js';
import { checkOverrides } from '../../../lambdas/domain/ml/trainer-config.js';
import { loadRunnableConfig } from '../../../local/trainers/config-trainers.js';

describe('the example training-job manifest', () => {
  it('examples/train-job.yaml is a valid job whose overrides the repository config accepts', () => {
    const job = readTrainingJob('examples/train-job.yaml');
    expect(job).toMatchObject({ model: 'churn', stage: 'staging', wait: true });
    expect(job.reason.length).toBeGreaterThan(0);
    const config = loadRunnableConfig('mlcycle.config.yaml');
    const model = config.models[job.model];
    if (!model) throw new Error(`examples/train-job.yaml names ${job.model}, not in the config`);
    expect(
      checkOverrides(
        job.model,
        config.trainers?.[job.model],
        model.training.hyperparameters,
        job.hyperparameters,
      ),
    ).toEqual(job.hyperparameters);
  });
});
