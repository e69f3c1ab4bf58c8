import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/adapters/config-file.js';
import { effectiveGates } from '../../../lambdas/contracts/config-schema.js';

import { configError as errorOf, sampleConfig as sample } from '../../support/config-samples.js';

describe('a model’s task and its gates', () => {
  it('reads task, split settings and per-stage gates; churn keeps the environment’s gates', () => {
    const c = parseConfig(sample());
    expect(c.models.churn?.task).toBe('binary');
    expect(c.models.ltv).toMatchObject({
      task: 'regression',
      evaluation: { splitKey: 'player_id', validationFraction: 0.1, seed: 42 },
    });
    expect(effectiveGates(c, 'ltv', 'staging').map((g) => g.metric)).toEqual(['r2', 'mae']);
    expect(effectiveGates(c, 'churn', 'staging')).toBe(c.environments.staging?.gates);
  });

  it('refuses a regression model left on the environment’s AUC gate, naming model, metric and remedy', () => {
    const raw = sample();
    delete raw.models.ltv?.gates;
    expect(errorOf(raw)).toMatch(
      /environments\.staging\.gates\.0\.metric.*applies to model ltv \(task regression\) but gates on auc, which mlcycle does not measure for a regression model \(it measures: rmse, mae, r2\); give the model its own gates under models\.<model>\.gates\.<stage>/,
    );
  });

  it('refuses a model’s own gate outside its family, and one for a stage that does not exist', () => {
    const raw = sample();
    (raw.models.segments as unknown as { gates: Record<string, unknown> }).gates = {
      staging: [{ metric: 'rmse', operator: '<=', threshold: 1 }],
      qa: [],
    };
    const message = errorOf(raw);
    expect(message).toMatch(
      /models\.segments\.gates\.staging\.0\.metric.*gates on rmse, which mlcycle does not measure for a multiclass model/,
    );
    expect(message).toMatch(
      /models\.segments\.gates\.qa.*is not an environment \(known: staging, production\)/,
    );
  });

  it('accepts a gate on a reported metric of any task, and refuses a malformed one', () => {
    const raw = sample();
    (raw.models.ltv as unknown as { gates: Record<string, unknown[]> }).gates.staging?.push({
      metric: 'reported:validationR2',
      operator: '>=',
      threshold: 0.1,
    });
    expect(effectiveGates(parseConfig(raw), 'ltv', 'staging').map((g) => g.metric)).toContain(
      'reported:validationR2',
    );
    (raw.models.ltv as unknown as { gates: Record<string, unknown[]> }).gates.staging?.push({
      metric: 'reported:',
      operator: '>=',
      threshold: 0.1,
    });
    expect(errorOf(raw)).toMatch(/models\.ltv\.gates\.staging\.3: got \{"metric":"reported:"/);
  });

  it('says training.command is gone: the argv comes from the trainer’s trainer.yaml', () => {
    const raw = sample();
    (raw.models.churn?.training as Record<string, unknown>).command = ['node', 'x'];
    expect(errorOf(raw)).toMatch(/models\.churn\.training.*command/);
  });
});
