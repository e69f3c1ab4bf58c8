import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RolloutEvidence, VariantEvidence } from '../../../lambdas/contracts/rollout-evidence.js';
import { rolloutEvidenceSchema } from '../../../lambdas/contracts/rollout-evidence.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import {
  addLatency,
  addOutcome,
  addValue,
  countAbove,
  emptyEvidence,
  emptyMean,
  emptyRate,
  emptyVariant,
  histogramQuantile,
  latencyBucket,
  latencyBucketBounds,
  meanOf,
  mergeEvidence,
  mergeVariant,
  rateOf,
  varianceOf,
} from '../../../lambdas/domain/rollouts/evidence.js';

/** Evidence with integer-valued sums, so float addition is exact and merges compare with toEqual. */
const variantArb: fc.Arbitrary<VariantEvidence> = fc.record({
  assigned: fc.nat({ max: 1e6 }),
  means: fc.dictionary(
    fc.constantFrom('revenue', 'session'),
    fc.record({
      n: fc.nat({ max: 1e6 }),
      sum: fc.integer({ min: -1e9, max: 1e9 }),
      sumSq: fc.nat({ max: 1e12 }),
    }),
  ),
  rates: fc.dictionary(
    fc.constantFrom('conversion', 'error'),
    fc.record({ successes: fc.nat({ max: 1e6 }), trials: fc.nat({ max: 1e6 }) }),
  ),
  latency: fc.dictionary(fc.nat({ max: 513 }).map(String), fc.nat({ max: 1e6 })),
});
const evidenceArb: fc.Arbitrary<RolloutEvidence> = fc.record({
  steps: fc.dictionary(
    fc.constantFrom('0', '1', '2'),
    fc.dictionary(fc.constantFrom('canary', 'control', 'b'), variantArb),
  ),
});

/** Compare ignoring key order (merges build records in different orders). */
const canonical = (e: RolloutEvidence) =>
  JSON.parse(
    JSON.stringify(e, (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
    ),
  );

describe('mergeable evidence', () => {
  it('merge is associative and commutative, with the empty evidence as identity', () => {
    fc.assert(
      fc.property(evidenceArb, evidenceArb, evidenceArb, (a, b, c) => {
        const left = canonical(mergeEvidence(mergeEvidence(a, b), c));
        expect(left).toEqual(canonical(mergeEvidence(a, mergeEvidence(b, c))));
        expect(canonical(mergeEvidence(a, b))).toEqual(canonical(mergeEvidence(b, a)));
        expect(canonical(mergeEvidence(a, emptyEvidence()))).toEqual(canonical(a));
        expect(rolloutEvidenceSchema.safeParse(mergeEvidence(a, b)).success).toBe(true);
      }),
      { seed: 13, numRuns: 300 },
    );
  });

  it('with real-valued metrics, merging in any grouping agrees to rounding', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 3, maxLength: 60 }),
        fc.nat(),
        fc.nat(),
        (xs, i, j) => {
          const [p, q] = [i % xs.length, j % xs.length].sort((x, y) => x - y) as [number, number];
          const batch = (ys: number[]) => ({
            ...emptyVariant(),
            means: { m: ys.reduce(addValue, emptyMean()) },
          });
          const [a, b, c] = [batch(xs.slice(0, p)), batch(xs.slice(p, q)), batch(xs.slice(q))];
          const l = mergeVariant(mergeVariant(a, b), c).means.m ?? emptyMean();
          const r = mergeVariant(a, mergeVariant(b, c)).means.m ?? emptyMean();
          const whole = batch(xs).means.m ?? emptyMean();
          expect(l.n).toBe(whole.n);
          for (const s of [l, r]) {
            expect(s.sum).toBeCloseTo(whole.sum, 6);
            expect(Math.abs(s.sumSq - whole.sumSq)).toBeLessThanOrEqual(1e-9 * whole.sumSq);
          }
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it('the summaries of a state: mean, unbiased variance, rate', () => {
    const s = [2, 4, 4, 4, 5, 5, 7, 9].reduce(addValue, emptyMean());
    expect(meanOf(s)).toBe(5);
    expect(varianceOf(s)).toBeCloseTo(32 / 7, 12);
    expect(varianceOf(addValue(emptyMean(), 3))).toBe(0);
    const r = [true, false, false, true].reduce(addOutcome, emptyRate());
    expect(r).toEqual({ successes: 2, trials: 4 });
    expect(rateOf(r)).toBe(0.5);
  });
});

describe('the latency histogram', () => {
  it('places values in log buckets whose bounds hold them', () => {
    for (const ms of [0, 0.004, 0.01, 0.5, 1, 12.3, 250, 99_999, 1e9]) {
      const [lo, hi] = latencyBucketBounds(latencyBucket(ms));
      expect(ms, String(ms)).toBeGreaterThanOrEqual(lo);
      expect(ms, String(ms)).toBeLessThan(hi);
    }
  });

  it('p50/p95/p99 are within 2.2 % of the exact sample quantiles (seeded log-normal latencies)', () => {
    const rng = new Random(42);
    const xs = Array.from({ length: 20_000 }, () => rng.logNormal(Math.log(40), 0.6));
    const h = xs.reduce(addLatency, {});
    const sorted = [...xs].sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1] as number;
      const est = histogramQuantile(h, q) as number;
      expect(Math.abs(est / exact - 1), `q${q}`).toBeLessThan(0.022);
    }
    expect(histogramQuantile({}, 0.95)).toBeUndefined();
  });

  it('counts the values surely above a limit (never more than the true count)', () => {
    const rng = new Random(3);
    const xs = Array.from({ length: 5000 }, () => rng.exponential(50));
    const h = xs.reduce(addLatency, {});
    const { above, total } = countAbove(h, 150);
    const truth = xs.filter((x) => x > 150).length;
    expect(total).toBe(5000);
    expect(above).toBeLessThanOrEqual(truth);
    expect(above / truth).toBeGreaterThan(0.9);
  });
});

describe('hostile names in evidence', () => {
  it('a variant or metric named __proto__ stays data: merged as its own key, no prototype touched', () => {
    const hostile = JSON.parse(
      '{"steps":{"0":{"__proto__":{"assigned":5,"means":{},"rates":{"__proto__":{"successes":1,"trials":2}},"latency":{}}}}}',
    ) as RolloutEvidence;
    const base: RolloutEvidence = {
      steps: { '0': { control: { ...emptyVariant(), assigned: 1, rates: { error: emptyRate() } } } },
    };
    const merged = mergeEvidence(mergeEvidence(base, hostile), hostile);
    const step = merged.steps['0'] as Record<string, VariantEvidence>;
    expect(Object.getPrototypeOf(step)).toBe(Object.prototype);
    expect(Object.hasOwn(step, '__proto__')).toBe(true);
    const v = Object.getOwnPropertyDescriptor(step, '__proto__')?.value as VariantEvidence;
    expect(v.assigned).toBe(10);
    expect(Object.getOwnPropertyDescriptor(v.rates, '__proto__')?.value).toEqual({ successes: 2, trials: 4 });
    expect(step.control?.assigned).toBe(1);
    expect(({} as Record<string, unknown>).assigned).toBeUndefined();
  });
});
