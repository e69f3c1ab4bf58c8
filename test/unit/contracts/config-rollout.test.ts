import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/adapters/config-file.js';
import { configError as errorOf, sampleConfig as sample } from '../../support/config-samples.js';

describe('models.<m>.rollout', () => {
  it('defaults to the documented policy and column names (ltv sets none)', () => {
    const rollout = parseConfig(sample()).models.ltv?.rollout;
    expect(rollout?.policy).toMatchObject({ alpha: 0.05, srmAlpha: 0.001, minSamples: 200, guardrails: [] });
    expect(rollout?.columns).toEqual({ variant: 'variant', player: 'player_id', outcomes: {} });
  });

  it('the sample config guards churn’s canaries on errors and latency (the demo runs one against them)', () => {
    const rollout = parseConfig(sample()).models.churn?.rollout;
    expect(rollout?.policy.guardrails).toEqual([
      { kind: 'rate-increase', rate: 'error', maxIncrease: 0.01 },
      { kind: 'latency-p95', maxMs: 250 },
    ]);
    // no primary metric: the drift function gets no right to start executions from it
    expect(rollout?.policy.primary).toBeUndefined();
    expect(rollout?.columns).toMatchObject({ latencyMs: 'latency_ms', error: 'error' });
  });

  it('takes a primary metric and guardrails, and refuses a bad one naming the key', () => {
    const raw = sample();
    (raw.models.churn as Record<string, unknown>).rollout = {
      policy: {
        primary: { metric: 'converted', type: 'rate', minimumEffect: 0.01 },
        guardrails: [{ kind: 'latency-p95', maxMs: 250 }],
      },
    };
    expect(parseConfig(raw).models.churn?.rollout.policy.primary?.better).toBe('higher');
    (raw.models.churn as Record<string, unknown>).rollout = { policy: { alpha: 2 } };
    expect(errorOf(raw)).toMatch(/models\.churn\.rollout\.policy\.alpha/);
    (raw.models.churn as Record<string, unknown>).rollout = { weights: 5 };
    expect(errorOf(raw)).toMatch(/models\.churn\.rollout.*weights/);
  });
});
