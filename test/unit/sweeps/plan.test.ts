import { describe, expect, it } from 'vitest';
import { type SweepSpecInput, sweepSpecSchema } from '../../../lambdas/contracts/sweep.js';
import type { DeployedTrainer } from '../../../lambdas/contracts/trainer.js';
import { planSweep, type SweepTarget, sweepBudgetProblem } from '../../../lambdas/domain/sweeps/plan.js';

const trainer: DeployedTrainer = {
  folder: 'containers/trainer',
  name: 'trainer',
  tasks: ['binary'],
  hyperparameters: {
    learningRate: { type: 'number', min: 0.000001, max: 10, default: 0.05 },
    epochs: { type: 'integer', min: 1, max: 10000, default: 40 },
    schedule: { type: 'string', choices: ['cosine', 'constant'], default: 'cosine' },
  },
};
const target: SweepTarget = {
  model: 'churn',
  task: 'binary',
  trainer,
  base: { learningRate: 0.05, epochs: 40 },
};
const spec = (input: Partial<SweepSpecInput>) =>
  sweepSpecSchema.parse({
    trials: 4,
    metric: 'auc',
    parameters: { learningRate: { logUniform: [0.001, 0.5] } },
    ...input,
  });

describe('planSweep', () => {
  it('plans trials with every hyperparameter, the rules and the concurrency', () => {
    const plan = planSweep(
      target,
      spec({ concurrency: 3, earlyStopping: { rule: 'asha', metric: 'trainLoss' } }),
      'churn-staging-sweep-1',
    );
    expect(plan.trials).toHaveLength(4);
    expect(plan.concurrency).toBe(3);
    for (const [i, t] of plan.trials.entries()) {
      expect(t.index).toBe(i);
      expect(t.hyperparameters.epochs).toBe(40);
      expect(t.hyperparameters.learningRate).toBe(t.overrides.learningRate);
    }
    expect(plan.rules).toEqual({
      id: 'churn-staging-sweep-1',
      metric: 'auc',
      direction: 'max',
      earlyStopping: {
        rule: 'asha',
        minEpochs: 1,
        reductionFactor: 3,
        metric: 'trainLoss',
        direction: 'min',
      },
    });
    expect(planSweep(target, spec({ metric: 'logLoss' }), 'x').rules.direction).toBe('min');
  });

  it('coerces grid values to the declared types', () => {
    const plan = planSweep(
      target,
      spec({ strategy: 'grid', parameters: { epochs: { grid: ['5', 10] } } }),
      'x',
    );
    expect(plan.trials.map((t) => t.overrides)).toEqual([{ epochs: 5 }, { epochs: 10 }]);
  });

  it('refuses what --set would refuse, naming the parameter and what to do', () => {
    expect(() =>
      planSweep(target, spec({ parameters: { learningRat: { uniform: [0.1, 0.2] } } }), 'x'),
    ).toThrow(
      /sweep parameters.learningRat=0.1: not a hyperparameter of containers\/trainer; did you mean learningRate\?/,
    );
    expect(() =>
      planSweep(target, spec({ parameters: { learningRate: { uniform: [0.1, 20] } } }), 'x'),
    ).toThrow(/sweep parameters.learningRate=20/);
    expect(() =>
      planSweep(
        target,
        spec({ strategy: 'grid', parameters: { schedule: { grid: ['cosine', 'step'] } } }),
        'x',
      ),
    ).toThrow(/sweep parameters.schedule="step"/);
    expect(() => planSweep(target, spec({ parameters: { epochs: { uniform: [1, 9] } } }), 'x')).toThrow(
      /sweep parameters.epochs: uniform samples real numbers, but containers\/trainer declares epochs as integer; use int or grid/,
    );
    expect(() => planSweep(target, spec({ metric: 'rmse' }), 'x')).toThrow(
      /sweep metric rmse is not measured for churn, a binary model: choose one of auc, logLoss/,
    );
    expect(() => planSweep({ ...target, trainer: undefined }, spec({}), 'x')).toThrow(
      /no trainer schema for churn/,
    );
  });
});

describe('sweepBudgetProblem', () => {
  const day = 86400;
  it('fits rounds of the Train and Predict budgets in the execution timeout', () => {
    const training = { taskTimeoutSeconds: 4 * 3600, predictTaskTimeoutSeconds: 3600 };
    expect(sweepBudgetProblem({ trials: 100, concurrency: 1 }, training, 3 * day)).toBeNull();
  });
  it('refuses, saying how long and what to change, when they do not', () => {
    const training = { taskTimeoutSeconds: 7 * day, predictTaskTimeoutSeconds: day };
    const problem = sweepBudgetProblem({ trials: 100, concurrency: 2 }, training, 3 * day);
    expect(problem).toMatch(
      /^a sweep of 100 trial\(s\), 2 at once, may take 4\d\d\.\d days \(50 round\(s\) of a trial's Train and Predict budgets, 8\.0 days each, and the approval wait\), longer than an execution may run \(365\.0 days\): raise concurrency, lower trials, or lower training\.timeoutMinutes$/,
    );
    expect(sweepBudgetProblem({ trials: 100, concurrency: 20 }, training, 3 * day)).toBeNull();
  });
});
