import { describe, expect, it } from 'vitest';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { addOutcome, addValue, emptyMean, emptyRate } from '../../../lambdas/domain/rollouts/evidence.js';
import {
  combineStrata,
  confidenceSequence,
  fixedHorizonPValue,
  meanDifference,
  msprtLogLR,
  msprtPValue,
  normalSurvival,
  rateDifference,
} from '../../../lambdas/domain/rollouts/sequential.js';
import { sampleRatioMismatch } from '../../../lambdas/domain/rollouts/srm.js';

describe('the normal-mixture SPRT', () => {
  it('matches the formula worked by hand (d̂ = 0.02, V = 1e-4, τ = 0.01)', () => {
    const e = { estimate: 0.02, variance: 1e-4 };
    // ½ ln(1/2) + (0.02² · 1e-4) / (2 · 1e-4 · 2e-4) = −0.346574 + 1
    expect(msprtLogLR(e, 0.01)).toBeCloseTo(1 - 0.5 * Math.LN2, 12);
    expect(msprtPValue(e, 0.01)).toBeCloseTo(Math.exp(-(1 - 0.5 * Math.LN2)), 12);
    // half-width √(V(V+τ²)/τ² · (2 ln 20 + ln 2)) = √(2e-4 · 6.684612)
    const [lo, hi] = confidenceSequence(e, 0.01, 0.05);
    expect(hi - 0.02).toBeCloseTo(Math.sqrt(2e-4 * (2 * Math.log(20) + Math.LN2)), 12);
    expect(0.02 - lo).toBeCloseTo(hi - 0.02, 12);
  });

  it('the confidence sequence is exactly the set of θ₀ whose p-value exceeds α', () => {
    for (const [d, v, tau, alpha] of [
      [0.3, 0.01, 0.1, 0.05],
      [-2, 4, 1, 0.01],
      [0, 1e-6, 1e-3, 0.1],
    ] as const) {
      const e = { estimate: d, variance: v };
      const [lo, hi] = confidenceSequence(e, tau, alpha);
      expect(msprtPValue(e, tau, lo)).toBeCloseTo(alpha, 9);
      expect(msprtPValue(e, tau, hi)).toBeCloseTo(alpha, 9);
      expect(msprtPValue(e, tau, d)).toBe(1);
    }
  });

  it('the p-value is 1 without variance (nothing measured yet)', () => {
    expect(msprtPValue({ estimate: 1, variance: 0 }, 1)).toBe(1);
    expect(confidenceSequence({ estimate: 1, variance: 0 }, 1, 0.05)).toEqual([-Infinity, Infinity]);
  });

  it('normal tail matches known quantiles', () => {
    expect(normalSurvival(1.959963985)).toBeCloseTo(0.025, 6);
    expect(normalSurvival(0)).toBeCloseTo(0.5, 6);
    expect(normalSurvival(-1.644853627)).toBeCloseTo(0.95, 6);
    expect(fixedHorizonPValue({ estimate: 1.959963985, variance: 1 })).toBeCloseTo(0.05, 6);
  });

  it('differences: Welch for means, unpooled (with a ½ continuity floor) for rates', () => {
    const c = [1, 2, 3, 4].reduce(addValue, emptyMean());
    const t = [2, 4, 6, 8].reduce(addValue, emptyMean());
    const d = meanDifference(c, t);
    expect(d?.estimate).toBe(2.5);
    expect(d?.variance).toBeCloseTo(5 / 3 / 4 + 20 / 3 / 4, 12);
    expect(meanDifference(addValue(emptyMean(), 1), t)).toBeUndefined();
    const r = rateDifference({ successes: 10, trials: 100 }, { successes: 0, trials: 50 });
    expect(r?.estimate).toBeCloseTo(-0.1, 12);
    expect(r?.variance).toBeGreaterThan(0);
  });

  it('strata combine by inverse variance', () => {
    const s = combineStrata([{ estimate: 1, variance: 1 }, undefined, { estimate: 4, variance: 2 }]);
    expect(s?.estimate).toBeCloseTo((1 + 2) / 1.5, 12);
    expect(s?.variance).toBeCloseTo(1 / 1.5, 12);
    expect(combineStrata([undefined])).toBeUndefined();
  });
});

/** A/A: both arms convert at 10 %, `batches` checks of `perBatch` players an arm; every check counts. */
function peekingAA(seed: number, rollouts: number, batches: number, perBatch: number) {
  const rng = new Random(seed);
  let ours = 0;
  let naive = 0;
  const finalP: number[] = [];
  for (let r = 0; r < rollouts; r++) {
    let a = emptyRate();
    let b = emptyRate();
    let minP = 1;
    let naiveHit = false;
    for (let k = 0; k < batches; k++) {
      for (let i = 0; i < perBatch; i++) {
        a = addOutcome(a, rng.next() < 0.1);
        b = addOutcome(b, rng.next() < 0.1);
      }
      const e = rateDifference(a, b);
      if (!e) continue;
      minP = Math.min(minP, msprtPValue(e, 0.02));
      if (fixedHorizonPValue(e) < 0.05) naiveHit = true;
    }
    if (minP <= 0.05) ours++;
    if (naiveHit) naive++;
    finalP.push(minP);
  }
  return { ours: ours / rollouts, naive: naive / rollouts, finalP };
}

describe('peeking after every batch (seeded A/A simulation, generous bounds)', () => {
  const { ours, naive, finalP } = peekingAA(2026, 400, 25, 200);

  it('the always-valid p-value keeps the false-positive rate at or below α; the naive test does not', () => {
    // α = 0.05; 400 rollouts: 3 binomial SDs above α is 0.083.
    expect(ours).toBeLessThanOrEqual(0.083);
    expect(naive).toBeGreaterThan(0.1);
    expect(naive).toBeGreaterThan(ours);
  });

  it('the running-minimum p-values are super-uniform: P(p ≤ a) ≤ a (within 3 SD) for a in 0.1, 0.2, 0.5', () => {
    for (const a of [0.1, 0.2, 0.5]) {
      const share = finalP.filter((p) => p <= a).length / finalP.length;
      expect(share, `a = ${a}`).toBeLessThanOrEqual(a + 3 * Math.sqrt((a * (1 - a)) / finalP.length));
    }
  });
});

describe('sample-ratio mismatch', () => {
  it('χ² of counts against weights, worked by hand: 520 / 9480 at 5 % / 95 %', () => {
    const r = sampleRatioMismatch({
      '0': { weights: { canary: 500, control: 9500 }, counts: { canary: 520, control: 9480 } },
    });
    expect(r.statistic).toBeCloseTo(400 / 500 + 400 / 9500, 12);
    expect(r.df).toBe(1);
    expect(r.pValue).toBeCloseTo(2 * normalSurvival(Math.sqrt(r.statistic)), 6);
    expect(r.pValue).toBeGreaterThan(0.3);
  });

  it('flags a canary that loses 4 % of its players at 500k players (p < 0.001), not at 100k (p ≈ 0.006)', () => {
    const r = sampleRatioMismatch({
      '0': { weights: { canary: 500, control: 9500 }, counts: { canary: 24_000, control: 475_000 } },
    });
    const small = sampleRatioMismatch({
      '0': { weights: { canary: 500, control: 9500 }, counts: { canary: 4800, control: 95_000 } },
    });
    expect(small.pValue).toBeGreaterThan(0.001);
    expect(r.pValue).toBeLessThan(0.001);
  });

  it('sums over ramp steps, each against its own weights', () => {
    const steps = {
      '0': { weights: { canary: 500, control: 9500 }, counts: { canary: 500, control: 9500 } },
      '1': { weights: { canary: 2500, control: 7500 }, counts: { canary: 2500, control: 7500 } },
    };
    expect(sampleRatioMismatch(steps)).toMatchObject({ statistic: 0, df: 2, pValue: 1 });
    // The same totals read against the last step's weights alone would be a gross mismatch.
    const pooled = sampleRatioMismatch({
      '1': { weights: { canary: 2500, control: 7500 }, counts: { canary: 3000, control: 17_000 } },
    });
    expect(pooled.pValue).toBeLessThan(1e-6);
  });

  it('players in a variant with no weight, or unknown to the rollout, are a mismatch outright', () => {
    const r = sampleRatioMismatch({
      '0': { weights: { green: 10_000, blue: 0 }, counts: { green: 1000, blue: 3, stray: 1 } },
    });
    expect(r.impossible).toBe(4);
    expect(r.pValue).toBe(0);
  });

  it('false alarms at p < 0.001 stay rare when nothing is wrong (seeded, 2,000 checks)', () => {
    const rng = new Random(11);
    let alarms = 0;
    for (let i = 0; i < 2000; i++) {
      let canary = 0;
      for (let j = 0; j < 2000; j++) if (rng.next() < 0.05) canary++;
      const r = sampleRatioMismatch({
        '0': { weights: { canary: 500, control: 9500 }, counts: { canary, control: 2000 - canary } },
      });
      if (r.pValue < 0.001) alarms++;
    }
    expect(alarms).toBeLessThanOrEqual(8); // expected 2
  });
});
