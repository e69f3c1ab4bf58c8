import { describe, expect, it } from 'vitest';
import {
  type RolloutEvidence,
  type RolloutPolicyInput,
  rolloutPolicySchema,
  type VariantEvidence,
} from '../../../lambdas/contracts/rollout-evidence.js';
import { ValidationError } from '../../../lambdas/domain/errors.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { decide } from '../../../lambdas/domain/rollouts/decide.js';
import {
  addLatency,
  addOutcome,
  addValue,
  emptyMean,
  emptyRate,
} from '../../../lambdas/domain/rollouts/evidence.js';

interface Arm {
  players: number;
  conversion?: number;
  error?: number;
  revenue?: { mean: number; sd: number };
  latencyMedianMs?: number;
}

/** Seeded evidence of one arm: each player converts, errs, spends and waits once. */
function arm(rng: Random, a: Arm): VariantEvidence {
  let conversion = emptyRate();
  let error = emptyRate();
  let revenue = emptyMean();
  let latency = {};
  for (let i = 0; i < a.players; i++) {
    if (a.conversion !== undefined) conversion = addOutcome(conversion, rng.next() < a.conversion);
    if (a.error !== undefined) error = addOutcome(error, rng.next() < a.error);
    if (a.revenue) revenue = addValue(revenue, rng.normal(a.revenue.mean, a.revenue.sd));
    if (a.latencyMedianMs) latency = addLatency(latency, rng.logNormal(Math.log(a.latencyMedianMs), 0.4));
  }
  return { assigned: a.players, means: { revenue }, rates: { conversion, error }, latency };
}

const canary5 = [
  { name: 'canary', weight: 500 },
  { name: 'control', weight: 9500 },
];
const policy = (p: RolloutPolicyInput = {}) =>
  rolloutPolicySchema.parse({
    primary: { metric: 'conversion', type: 'rate', minimumEffect: 0.01 },
    guardrails: [
      { kind: 'latency-p95', maxMs: 200 },
      { kind: 'rate-increase', rate: 'error', maxIncrease: 0.005 },
      { kind: 'must-not-fall', metric: 'revenue', type: 'mean', maxDrop: 0.5 },
    ],
    ...p,
  });
const base: Arm = {
  players: 0,
  conversion: 0.1,
  error: 0.01,
  revenue: { mean: 10, sd: 5 },
  latencyMedianMs: 80,
};

function evidence(
  seed: number,
  canary: Partial<Arm> & { players: number },
  control: Partial<Arm> & { players: number },
) {
  const rng = new Random(seed);
  return {
    steps: { '0': { canary: arm(rng, { ...base, ...canary }), control: arm(rng, { ...base, ...control }) } },
  } satisfies RolloutEvidence;
}

describe('decide', () => {
  it('a canary no different from the control: continue, no guardrail breached', () => {
    const d = decide({
      evidence: evidence(1, { players: 2000 }, { players: 38_000 }),
      steps: { '0': canary5 },
      policy: policy(),
    });
    expect(d.action).toBe('continue');
    expect(d.srmFlagged).toBe(false);
    expect(d.tests.filter((t) => t.breached)).toEqual([]);
    expect(d.reasons.map((r) => r.code)).toEqual(['no-decision-yet']);
    expect(d.variants.find((v) => v.name === 'canary')?.latencyP95).toBeGreaterThan(80);
  });

  it('a canary whose error rate rises from 1 % to 4 %: rollback, naming the guardrail and the interval', () => {
    const d = decide({
      evidence: evidence(2, { players: 2000, error: 0.04 }, { players: 38_000 }),
      steps: { '0': canary5 },
      policy: policy(),
    });
    expect(d.action).toBe('rollback');
    const reason = d.reasons.find((r) => r.code === 'guardrail-breach');
    expect(reason?.message).toMatch(
      /^canary: error rose by 0\.0\d+ \[0\.0\d+, 0\.0\d+\] against the control, more than \+0\.005/,
    );
  });

  it('a canary with a p95 latency well above 200 ms: rollback', () => {
    const d = decide({
      evidence: evidence(3, { players: 2000, latencyMedianMs: 180 }, { players: 38_000 }),
      steps: { '0': canary5 },
      policy: policy(),
    });
    expect(d.action).toBe('rollback');
    expect(d.reasons.find((r) => r.code === 'guardrail-breach')?.message).toMatch(/latency p95 above 200 ms/);
  });

  it('a canary whose revenue falls by 2 (limit 0.5): rollback', () => {
    const d = decide({
      evidence: evidence(4, { players: 2000, revenue: { mean: 8, sd: 5 } }, { players: 38_000 }),
      steps: { '0': canary5 },
      policy: policy(),
    });
    expect(d.action).toBe('rollback');
    expect(d.reasons.find((r) => r.code === 'guardrail-breach')?.message).toMatch(
      /revenue changed by -[12]\.\d+ \[-\d\.\d+, -\d\.\d+\] against the control, a drop beyond −0\.500/,
    );
  });

  it('a canary converting 14 % against 10 %: promote, the winner named', () => {
    const d = decide({
      evidence: evidence(5, { players: 2000, conversion: 0.14 }, { players: 38_000 }),
      steps: { '0': canary5 },
      policy: policy(),
    });
    expect(d.action).toBe('promote');
    expect(d.winner).toBe('canary');
    expect(d.reasons.map((r) => r.code)).toEqual(['primary-better']);
    const t = d.tests.find((x) => x.key.startsWith('canary:primary:'));
    expect(t?.lower).toBeGreaterThan(0);
    expect(t?.pValue).toBeLessThan(0.05);
  });

  it('a canary converting 6 % against 10 %: rollback on the primary metric', () => {
    const d = decide({
      evidence: evidence(6, { players: 2000, conversion: 0.06 }, { players: 38_000 }),
      steps: { '0': canary5 },
      policy: policy(),
    });
    expect(d.action).toBe('rollback');
    expect(d.reasons.map((r) => r.code)).toContain('primary-worse');
  });

  it('a sample-ratio mismatch stops the rollout and is never a promotion, however good the canary looks', () => {
    const d = decide({
      evidence: evidence(7, { players: 1400, conversion: 0.2 }, { players: 38_000 }),
      steps: { '0': canary5 },
      policy: policy(),
    });
    expect(d.srm.pValue).toBeLessThan(0.001);
    expect(d.action).toBe('rollback');
    expect(d.winner).toBeUndefined();
    expect(d.reasons[0]?.message).toMatch(/^sample ratio mismatch: .*χ² = \d+.*new rollout id/);
  });

  it('no test decides below minSamples players a side', () => {
    const d = decide({
      evidence: evidence(8, { players: 50, error: 0.5 }, { players: 950 }),
      steps: { '0': canary5 },
      policy: policy(),
    });
    expect(d.action).toBe('continue');
    expect(d.tests).toEqual([]);
    const kept = { 'canary:primary:conversion:0.01': { pValue: 0.3, lower: -0.1, upper: 0.1 } };
    expect(
      decide({
        evidence: evidence(8, { players: 50 }, { players: 950 }),
        steps: { '0': canary5 },
        policy: policy(),
        memory: kept,
      }).memory,
    ).toEqual(kept);
    expect(d.reasons[0]).toMatchObject({
      code: 'too-few-samples',
      message: expect.stringMatching(/canary: 50 players.*below 200/),
    });
  });

  it('evidence for a ramp step the rollout record does not have is refused, naming the step', () => {
    const e = evidence(9, { players: 500 }, { players: 9500 });
    expect(() =>
      decide({ evidence: { steps: { '3': e.steps['0'] } }, steps: { '0': canary5 }, policy: policy() }),
    ).toThrow(ValidationError);
    expect(() =>
      decide({ evidence: { steps: { '3': e.steps['0'] } }, steps: { '0': canary5 }, policy: policy() }),
    ).toThrow(/ramp step 3/);
  });

  it('memory carries the running minimum p-value and the intersected interval to the next check', () => {
    const e = evidence(10, { players: 2000 }, { players: 38_000 });
    const first = decide({ evidence: e, steps: { '0': canary5 }, policy: policy() });
    const key = 'canary:primary:conversion:0.01';
    const remembered = { pValue: 0.2, lower: -0.004, upper: 0.003 };
    const next = decide({
      evidence: e,
      steps: { '0': canary5 },
      policy: policy(),
      memory: { [key]: remembered },
    });
    const t = next.tests.find((x) => x.key === key);
    expect(t?.pValue).toBe(Math.min(0.2, first.memory[key]?.pValue ?? 1));
    expect(t?.lower).toBe(Math.max(-0.004, first.memory[key]?.lower ?? -1));
    expect(t?.upper).toBe(Math.min(0.003, first.memory[key]?.upper ?? 1));
  });

  it('a ramp with a time trend: per-step comparison sees no difference where pooling would invent one', () => {
    // Both arms convert at 10 % in step 0 (canary 5 %) and at 20 % in step 1 (canary 50 %): the
    // pooled canary holds more late players and would look better; the strata do not.
    const rng = new Random(12);
    const steps = {
      '0': canary5,
      '1': [
        { name: 'canary', weight: 5000 },
        { name: 'control', weight: 5000 },
      ],
    };
    const e: RolloutEvidence = {
      steps: {
        '0': {
          canary: arm(rng, { players: 1000, conversion: 0.1 }),
          control: arm(rng, { players: 19_000, conversion: 0.1 }),
        },
        '1': {
          canary: arm(rng, { players: 10_000, conversion: 0.2 }),
          control: arm(rng, { players: 10_000, conversion: 0.2 }),
        },
      },
    };
    const d = decide({ evidence: e, steps, policy: policy({ guardrails: [] }) });
    expect(d.action).toBe('continue');
    const t = d.tests.find((x) => x.key.startsWith('canary:primary:'));
    expect(Math.abs(t?.estimate ?? 1)).toBeLessThan(0.01);
    const rate = (v: string) => {
      const [a, b] = [e.steps['0']?.[v]?.rates.conversion, e.steps['1']?.[v]?.rates.conversion];
      return ((a?.successes ?? 0) + (b?.successes ?? 0)) / ((a?.trials ?? 0) + (b?.trials ?? 0));
    };
    expect(rate('canary') - rate('control')).toBeGreaterThan(0.04);
  });

  it('A/B/n: the best significant treatment wins; α is split between treatments', () => {
    const rng = new Random(13);
    const steps = {
      '0': [
        { name: 'b', weight: 2500 },
        { name: 'c', weight: 2500 },
        { name: 'control', weight: 5000 },
      ],
    };
    const e: RolloutEvidence = {
      steps: {
        '0': {
          b: arm(rng, { players: 5000, conversion: 0.13 }),
          c: arm(rng, { players: 5000, conversion: 0.16 }),
          control: arm(rng, { players: 10_000, conversion: 0.1 }),
        },
      },
    };
    const d = decide({ evidence: e, steps, policy: policy({ guardrails: [] }) });
    expect(d.action).toBe('promote');
    expect(d.winner).toBe('c');
  });

  it('a must-not-fall guardrail on a mean with maxDrop 0 needs its tau, and says so', () => {
    expect(() =>
      decide({
        evidence: evidence(14, { players: 500 }, { players: 9500 }),
        steps: { '0': canary5 },
        policy: policy({
          guardrails: [{ kind: 'must-not-fall', metric: 'revenue', type: 'mean', maxDrop: 0 }],
        }),
      }),
    ).toThrow(/guardrail on revenue: maxDrop is 0, so set its tau/);
  });

  it('names that are also Object.prototype members (constructor, toString) are plain variants and steps', () => {
    const rng = new Random(15);
    const steps = {
      '0': [
        { name: 'constructor', weight: 500 },
        { name: 'tostring', weight: 9500 },
      ],
    };
    const e: RolloutEvidence = {
      steps: {
        '0': {
          constructor: arm(rng, { ...base, players: 2000 }),
          tostring: arm(rng, { ...base, players: 38_000 }),
        },
      },
    };
    const d = decide({ evidence: e, steps, policy: policy() });
    expect(d.srm.pValue).toBeGreaterThan(0.001);
    expect(d.tests.length).toBeGreaterThan(0);
    expect(d.tests.every((t) => Number.isFinite(t.estimate))).toBe(true);
    const sneaky = JSON.parse('{"steps":{"constructor":{}}}') as RolloutEvidence;
    expect(() => decide({ evidence: sneaky, steps: { '0': canary5 }, policy: policy() })).toThrow(
      /ramp step constructor/,
    );
  });

  it('memory of a test with another τ is not reused (a changed policy starts its tests afresh)', () => {
    const e = evidence(16, { players: 2000 }, { players: 38_000 });
    const stale = { 'canary:primary:conversion:0.05': { pValue: 1e-9, lower: 0.5, upper: 0.6 } };
    const d = decide({ evidence: e, steps: { '0': canary5 }, policy: policy(), memory: stale });
    expect(d.action).toBe('continue');
    expect(Object.keys(d.memory)).toContain('canary:primary:conversion:0.01');
    expect(Object.keys(d.memory)).toContain('canary:guardrail:1:rate-increase:error:0.005:');
  });
});
