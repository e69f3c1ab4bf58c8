/**
 * `npm run bench:rollouts [-- --quick]`: what the rollout statistics (lambdas/domain/rollouts)
 * do under peeking, by seeded simulation. Every rollout is checked after EVERY batch with the
 * product's decide(); the figures go to docs/rollouts.md.
 *
 * Traffic: 10,000 players a batch, canary at 5 % (weights 500 / 9,500), at most 50 batches.
 * Each batch's counts are drawn exactly (binomial by waiting times; a normal metric's Σx and
 * Σx² from its sample mean and χ² sample variance), so no player-level loop is needed.
 *
 * (a) A/A, 2,000 rollouts × 50 checks: how often the primary test declares a difference
 *     (promote or roll back) with our mSPRT, against a fixed-horizon z-test at α = 0.05 looked
 *     at after every batch; for a conversion rate (10 %) and for a normal metric.
 * (b) Power: conversion 10 % → 12 %, 11 %, 10.5 % on the canary (1,000 rollouts each): the share
 *     promoted within 50 batches, the median batches to the decision, and a fixed-horizon test's
 *     power at one look after 50 batches for reference; and an error-rate guardrail (1 % → 2 %,
 *     limit +0.5 points) rolled back.
 * (c) SRM: the χ² flag (p < 0.001) under correct assignment, per check and per rollout (any of
 *     50 checks), and its power when the canary loses 2 % or 5 % of its players' events.
 */
import type {
  RolloutEvidence,
  RolloutPolicyInput,
  VariantEvidence,
} from '../lambdas/contracts/rollout-evidence.js';
import { rolloutPolicySchema } from '../lambdas/contracts/rollout-evidence.js';
import { Random } from '../lambdas/domain/ml/random.js';
import { decide } from '../lambdas/domain/rollouts/decide.js';
import { emptyMean, emptyRate } from '../lambdas/domain/rollouts/evidence.js';
import { fixedHorizonPValue, meanDifference, rateDifference } from '../lambdas/domain/rollouts/sequential.js';

const quick = process.argv.includes('--quick');
const ROLLOUTS = quick ? 400 : 2000;
const POWER_ROLLOUTS = quick ? 200 : 1000;
const BATCHES = 50;
const PLAYERS = 10_000;
const CANARY_BP = 500;
const ALPHA = 0.05;
const steps = {
  '0': [
    { name: 'canary', weight: CANARY_BP },
    { name: 'control', weight: 10_000 - CANARY_BP },
  ],
};

/** Binomial(n, p) exactly, by geometric waiting times (cost ∝ n·min(p, 1 − p)). */
function binomial(rng: Random, n: number, p: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  const logQ = Math.log(1 - p);
  let x = 0;
  let pos = 0;
  for (;;) {
    pos += Math.floor(Math.log(1 - rng.next()) / logQ) + 1;
    if (pos > n) return x;
    x++;
  }
}

/** Σx and Σx² of n draws of N(mu, sd²): x̄ ~ N(mu, sd²/n), (n−1)S²/sd² ~ χ²(n−1), independent. */
function normalSums(rng: Random, n: number, mu: number, sd: number): { sum: number; sumSq: number } {
  if (n < 2) return { sum: n * mu, sumSq: n * mu * mu };
  const mean = rng.normal(mu, sd / Math.sqrt(n));
  const ss = rng.gamma((n - 1) / 2, 2) * sd * sd;
  return { sum: n * mean, sumSq: ss + n * mean * mean };
}

interface Arms {
  conversion: [number, number];
  error?: [number, number];
  revenue?: [number, number];
  /** Share of the canary's players whose events are lost (an SRM cause). */
  canaryLoss?: number;
}

type Cumulative = Record<'canary' | 'control', VariantEvidence>;

function emptyArms(): Cumulative {
  const v = (): VariantEvidence => ({
    assigned: 0,
    means: { revenue: { n: 0, sum: 0, sumSq: 0 } },
    rates: { conversion: { successes: 0, trials: 0 }, error: { successes: 0, trials: 0 } },
    latency: {},
  });
  return { canary: v(), control: v() };
}

function addBatch(rng: Random, c: Cumulative, arms: Arms): void {
  const assigned = binomial(rng, PLAYERS, CANARY_BP / 10_000);
  const lost = arms.canaryLoss ? binomial(rng, assigned, arms.canaryLoss) : 0;
  const sizes = { canary: assigned - lost, control: PLAYERS - assigned };
  (['canary', 'control'] as const).forEach((name, i) => {
    const n = sizes[name];
    const v = c[name];
    v.assigned += n;
    const conv = v.rates.conversion as { successes: number; trials: number };
    conv.successes += binomial(rng, n, arms.conversion[i] as number);
    conv.trials += n;
    if (arms.error) {
      const err = v.rates.error as { successes: number; trials: number };
      err.successes += binomial(rng, n, arms.error[i] as number);
      err.trials += n;
    }
    if (arms.revenue) {
      const s = normalSums(rng, n, arms.revenue[i] as number, 5);
      const m = v.means.revenue as { n: number; sum: number; sumSq: number };
      m.n += n;
      m.sum += s.sum;
      m.sumSq += s.sumSq;
    }
  });
}

interface RunResult {
  /** Batch (1-based) of the first non-continue action by code, if any. */
  first: Partial<Record<string, number>>;
  naiveHit: boolean;
  fixedHorizonHit: boolean;
}

/** The naive comparison of the primary metric: Welch / unpooled z on the cumulative counts. */
function naiveEstimate(c: Cumulative, metric: 'conversion' | 'revenue') {
  if (metric === 'revenue')
    return meanDifference(c.control.means.revenue ?? emptyMean(), c.canary.means.revenue ?? emptyMean());
  return rateDifference(c.control.rates.conversion ?? emptyRate(), c.canary.rates.conversion ?? emptyRate());
}

function run(seed: number, arms: Arms, policyInput: RolloutPolicyInput, stopOnDecision: boolean): RunResult {
  const rng = new Random(seed);
  const policy = rolloutPolicySchema.parse(policyInput);
  const c = emptyArms();
  let memory = {};
  const first: RunResult['first'] = {};
  let naiveHit = false;
  let last: ReturnType<typeof naiveEstimate>;
  for (let b = 1; b <= BATCHES; b++) {
    addBatch(rng, c, arms);
    const evidence: RolloutEvidence = { steps: { '0': c } };
    const d = decide({ evidence, steps, policy, memory });
    memory = d.memory;
    for (const r of d.reasons)
      if (r.code !== 'no-decision-yet' && r.code !== 'too-few-samples') first[r.code] ??= b;
    last = naiveEstimate(c, policy.primary?.metric === 'revenue' ? 'revenue' : 'conversion');
    if (last && fixedHorizonPValue(last) < ALPHA) naiveHit = true;
    if (stopOnDecision && d.action !== 'continue') break;
  }
  return { first, naiveHit, fixedHorizonHit: !!last && fixedHorizonPValue(last) < ALPHA };
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const se = (p: number, n: number) => `± ${(100 * 1.96 * Math.sqrt((p * (1 - p)) / n)).toFixed(2)}`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] as number) : Number.NaN;
};

const started = Date.now();
const rate = { metric: 'conversion', type: 'rate' as const, minimumEffect: 0.01 };
console.log(
  `traffic: ${PLAYERS} players/batch, canary ${CANARY_BP / 100} %, ${BATCHES} batches, α = ${ALPHA}, a check after every batch`,
);

// (a) A/A
{
  let oursRate = 0;
  let naiveRate = 0;
  let oursMean = 0;
  let naiveMean = 0;
  for (let i = 0; i < ROLLOUTS; i++) {
    const r = run(1000 + i, { conversion: [0.1, 0.1] }, { primary: rate, srmAlpha: 1e-300 }, false);
    if (r.first['primary-better'] || r.first['primary-worse']) oursRate++;
    if (r.naiveHit) naiveRate++;
    const m = run(
      500_000 + i,
      { conversion: [0.1, 0.1], revenue: [10, 10] },
      { primary: { metric: 'revenue', type: 'mean', minimumEffect: 0.2 }, srmAlpha: 1e-300 },
      false,
    );
    if (m.first['primary-better'] || m.first['primary-worse']) oursMean++;
    if (m.naiveHit) naiveMean++;
  }
  const n = ROLLOUTS;
  console.log(`\n(a) A/A, ${n} rollouts × ${BATCHES} checks: share of rollouts ever declared different`);
  console.log(
    `  conversion 10 % (τ = 0.01): mSPRT ${pct(oursRate / n)} ${se(oursRate / n, n)}   naive z-test peeked ${pct(naiveRate / n)} ${se(naiveRate / n, n)}`,
  );
  console.log(
    `  revenue N(10, 5²) (τ = 0.2): mSPRT ${pct(oursMean / n)} ${se(oursMean / n, n)}   naive z-test peeked ${pct(naiveMean / n)} ${se(naiveMean / n, n)}`,
  );
}

// (b) power
console.log(`\n(b) power, ${POWER_ROLLOUTS} rollouts each, stopping at the first decision (τ = 0.01)`);
for (const lift of [0.02, 0.01, 0.005, 0.002]) {
  let promoted = 0;
  let fixed = 0;
  const when: number[] = [];
  for (let i = 0; i < POWER_ROLLOUTS; i++) {
    const r = run(
      2_000_000 + i,
      { conversion: [0.1 + lift, 0.1] },
      { primary: rate, srmAlpha: 1e-300 },
      true,
    );
    const b = r.first['primary-better'];
    if (b && !r.first['primary-worse']) {
      promoted++;
      when.push(b);
    }
    const f = run(
      3_000_000 + i,
      { conversion: [0.1 + lift, 0.1] },
      { primary: rate, srmAlpha: 1e-300 },
      false,
    );
    if (f.fixedHorizonHit) fixed++;
  }
  const n = POWER_ROLLOUTS;
  console.log(
    `  conversion 10 % → ${(10 + lift * 100).toFixed(1)} % (+${(lift * 100).toFixed(1)} points): promoted ${pct(promoted / n)}, median ${median(when)} batches (${median(when) * PLAYERS * 0.05} canary players); fixed-horizon z-test, one look at batch ${BATCHES}: ${pct(fixed / n)}`,
  );
}
{
  let rolled = 0;
  const when: number[] = [];
  for (let i = 0; i < POWER_ROLLOUTS; i++) {
    const r = run(
      4_000_000 + i,
      { conversion: [0.1, 0.1], error: [0.02, 0.01] },
      { guardrails: [{ kind: 'rate-increase', rate: 'error', maxIncrease: 0.005 }], srmAlpha: 1e-300 },
      true,
    );
    const b = r.first['guardrail-breach'];
    if (b) {
      rolled++;
      when.push(b);
    }
  }
  console.log(
    `  error rate 1 % → 2 % (guardrail: at most +0.5 points): rolled back ${pct(rolled / POWER_ROLLOUTS)}, median ${median(when)} batches`,
  );
}

// (c) SRM
{
  let alarmsPerCheck = 0;
  let rolloutsAlarmed = 0;
  for (let i = 0; i < ROLLOUTS; i++) {
    const r = run(5_000_000 + i, { conversion: [0.1, 0.1] }, { srmAlpha: 0.001 }, false);
    if (r.first['sample-ratio-mismatch']) rolloutsAlarmed++;
  }
  // Per check: one independent look at a fresh rollout's first batch counts.
  const rng = new Random(6);
  const single = 20_000;
  for (let i = 0; i < single; i++) {
    const canary = binomial(rng, PLAYERS * 10, CANARY_BP / 10_000);
    const d = decide({
      evidence: {
        steps: {
          '0': {
            canary: { assigned: canary, means: {}, rates: {}, latency: {} },
            control: { assigned: PLAYERS * 10 - canary, means: {}, rates: {}, latency: {} },
          },
        },
      },
      steps,
      policy: rolloutPolicySchema.parse({}),
    });
    if (d.srmFlagged) alarmsPerCheck++;
  }
  console.log(`\n(c) SRM flag at p < 0.001 under correct assignment`);
  console.log(`  one check (${single} independent looks at 100k players): ${pct(alarmsPerCheck / single)}`);
  console.log(
    `  per rollout, any of ${BATCHES} checks (${ROLLOUTS} rollouts): ${pct(rolloutsAlarmed / ROLLOUTS)} ${se(rolloutsAlarmed / ROLLOUTS, ROLLOUTS)}`,
  );
  for (const loss of [0.02, 0.05]) {
    let caught = 0;
    const when: number[] = [];
    for (let i = 0; i < POWER_ROLLOUTS; i++) {
      const r = run(6_000_000 + i, { conversion: [0.1, 0.1], canaryLoss: loss }, { srmAlpha: 0.001 }, true);
      const b = r.first['sample-ratio-mismatch'];
      if (b) {
        caught++;
        when.push(b);
      }
    }
    console.log(
      `  canary loses ${loss * 100} % of its players' events: flagged ${pct(caught / POWER_ROLLOUTS)}, median ${median(when)} batches`,
    );
  }
}
console.log(`\n${((Date.now() - started) / 1000).toFixed(1)} s`);
