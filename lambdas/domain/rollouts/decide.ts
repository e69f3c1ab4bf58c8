import type { RolloutVariant } from '../../contracts/rollout.js';
import type {
  Guardrail,
  LatencyHistogram,
  RolloutEvidence,
  RolloutPolicy,
  VariantEvidence,
} from '../../contracts/rollout-evidence.js';
import { ValidationError } from '../errors.js';
import {
  countAbove,
  emptyMean,
  emptyRate,
  histogramQuantile,
  mergeHistograms,
  own,
  variantTotal,
} from './evidence.js';
import {
  combineStrata,
  confidenceSequence,
  type Estimate,
  meanDifference,
  msprtPValue,
  rateDifference,
} from './sequential.js';
import { type SrmResult, sampleRatioMismatch } from './srm.js';

/**
 * The rollout decision: continue, promote or roll back, with every reason. Precedence:
 * 1. a sample-ratio mismatch stops the rollout (rollback) and is never a promotion: the arms
 *    cannot be compared until the assignment or logging is fixed (then a new rollout id);
 * 2. a guardrail breached with significance (its confidence sequence wholly past the threshold)
 *    rolls back; so does a primary metric significantly worse than the control;
 * 3. a primary metric significantly better (α split over the treatments) promotes the best;
 * 4. otherwise continue. No test decides below `minSamples` players a side.
 * Tests are mSPRTs (sequential.ts): checking after every batch keeps each at its α, given the
 * running minimum of p-values and intersection of intervals in `memory`.
 */

export type RolloutAction = 'continue' | 'promote' | 'rollback';
export type ReasonCode =
  | 'sample-ratio-mismatch'
  | 'guardrail-breach'
  | 'primary-worse'
  | 'primary-better'
  | 'too-few-samples'
  | 'no-decision-yet';

export interface RolloutReason {
  code: ReasonCode;
  variant?: string;
  message: string;
}

export interface TestResult {
  /**
   * The key of `memory`: `${variant}:primary:${metric}:${τ}` or `${variant}:guardrail:…` with the
   * guardrail's metric, threshold and τ, so a changed policy starts its tests afresh instead of
   * intersecting intervals of different tests.
   */
  key: string;
  variant: string;
  metric: string;
  /** Treatment − control (latency: the share of requests above the limit). */
  estimate: number;
  /** Always-valid confidence sequence (running intersection). */
  lower: number;
  upper: number;
  /** Always-valid p-value against the threshold (running minimum). */
  pValue: number;
  threshold: number;
  breached: boolean;
}

export interface Memory {
  pValue: number;
  lower: number;
  upper: number;
}

export interface RolloutDecisionInput {
  evidence: RolloutEvidence;
  /** Ramp step → variants with weights, control last: from the rollout record (server side). */
  steps: Record<string, readonly Pick<RolloutVariant, 'name' | 'weight'>[]>;
  policy: RolloutPolicy;
  /** The previous decision's `memory` (empty on the first check). */
  memory?: Record<string, Memory>;
}

export interface RolloutDecision {
  action: RolloutAction;
  /** The treatment to promote when action is promote. */
  winner?: string;
  reasons: RolloutReason[];
  srm: SrmResult;
  srmFlagged: boolean;
  tests: TestResult[];
  /** Per-variant totals for display (players, p95 latency). */
  variants: { name: string; assigned: number; latencyP95?: number }[];
  /** Store and pass back on the next check. */
  memory: Record<string, Memory>;
}

const fmt = (x: number) =>
  Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);

export function decide(input: RolloutDecisionInput): RolloutDecision {
  const { evidence, steps, policy } = input;
  for (const step of Object.keys(evidence.steps)) {
    if (!own(steps, step)) {
      throw new ValidationError(
        `evidence has ramp step ${step}, which the rollout record does not (steps: ${Object.keys(steps).join(', ') || 'none'}); aggregate batches against the rollout's own steps`,
      );
    }
  }
  const stepKeys = Object.keys(steps).sort((a, b) => Number(a) - Number(b));
  const latest = steps[stepKeys[stepKeys.length - 1] ?? ''] ?? [];
  const control = latest[latest.length - 1]?.name;
  if (!control) throw new ValidationError('the rollout record has no variants: cannot decide');
  const treatments = latest.slice(0, -1).map((v) => v.name);

  const srm = sampleRatioMismatch(
    Object.fromEntries(
      stepKeys.map((k) => [
        k,
        {
          weights: Object.fromEntries((steps[k] ?? []).map((v) => [v.name, v.weight])),
          counts: Object.fromEntries(
            Object.entries(own(evidence.steps, k) ?? {}).map(([n, v]) => [n, v.assigned]),
          ),
        },
      ]),
    ),
  );
  const srmFlagged = srm.pValue < policy.srmAlpha;
  const reasons: RolloutReason[] = [];
  if (srmFlagged) {
    reasons.push({
      code: 'sample-ratio-mismatch',
      message:
        `sample ratio mismatch: assignment counts do not match the weights (χ² = ${fmt(srm.statistic)}, df ${srm.df}, p = ${srm.pValue.toExponential(2)} < ${policy.srmAlpha}` +
        `${srm.impossible ? `; ${srm.impossible} players in variants with no weight` : ''}); stop, investigate assignment and logging, restart with a new rollout id`,
    });
  }

  // Tests not run at this check keep what they had.
  const memory: Record<string, Memory> = Object.fromEntries(Object.entries(input.memory ?? {}));
  const tests: TestResult[] = [];
  const alphaPrimary = policy.alpha / Math.max(1, treatments.length);
  const perStep = (variant: string) => stepKeys.map((k) => own(own(evidence.steps, k), variant));
  const totals = (name: string) => variantTotal(evidence, name);
  const record = (
    t: Omit<TestResult, 'pValue' | 'lower' | 'upper'>,
    p: number,
    cs: [number, number],
  ): TestResult => {
    const prev = own(input.memory, t.key);
    let lower = Math.max(cs[0], prev?.lower ?? Number.NEGATIVE_INFINITY);
    let upper = Math.min(cs[1], prev?.upper ?? Number.POSITIVE_INFINITY);
    if (lower > upper) [lower, upper] = cs; // the sequence's rare miss: keep this check's interval
    const pValue = Math.min(p, prev?.pValue ?? 1);
    memory[t.key] = { pValue, lower, upper };
    const result = { ...t, pValue, lower, upper };
    tests.push(result);
    return result;
  };

  let best: { name: string; lower: number } | undefined;
  for (const name of treatments) {
    const n = totals(name).assigned;
    const nc = totals(control).assigned;
    if (n < policy.minSamples || nc < policy.minSamples) {
      reasons.push({
        code: 'too-few-samples',
        variant: name,
        message: `${name}: ${n} players against ${nc} on ${control}; no test decides below ${policy.minSamples} a side`,
      });
      continue;
    }
    policy.guardrails.forEach((g, i) => {
      const t = guardrailTest(
        g,
        `${name}:${guardrailKey(g, i)}`,
        name,
        perStep(name),
        perStep(control),
        policy.alpha,
      );
      if (!t) return;
      const r = record(t.result, t.pValue, t.cs);
      const breached = g.kind === 'must-not-fall' ? r.upper < -r.threshold : r.lower > r.threshold;
      r.breached = breached;
      if (breached)
        reasons.push({ code: 'guardrail-breach', variant: name, message: `${name}: ${t.describe(r)}` });
    });
    const p = policy.primary;
    if (!p) continue;
    const est = difference(p.type, p.metric, perStep(name), perStep(control));
    if (!est) continue;
    const r = record(
      {
        key: `${name}:primary:${p.metric}:${p.minimumEffect}`,
        variant: name,
        metric: p.metric,
        estimate: est.estimate,
        threshold: 0,
        breached: false,
      },
      msprtPValue(est, p.minimumEffect),
      confidenceSequence(est, p.minimumEffect, alphaPrimary),
    );
    const sign = p.better === 'higher' ? 1 : -1;
    const [goodBound, badBound] = sign > 0 ? [r.lower, r.upper] : [-r.upper, -r.lower];
    const interval = `${fmt(r.estimate)} [${fmt(r.lower)}, ${fmt(r.upper)}], p = ${r.pValue.toPrecision(2)}`;
    if (badBound < 0) {
      r.breached = true;
      reasons.push({
        code: 'primary-worse',
        variant: name,
        message: `${name}: ${p.metric} is worse than ${control}: ${interval}`,
      });
    } else if (goodBound > 0) {
      reasons.push({
        code: 'primary-better',
        variant: name,
        message: `${name}: ${p.metric} beats ${control}: ${interval}`,
      });
      if (!best || goodBound > best.lower) best = { name, lower: goodBound };
    }
  }

  const rollback =
    srmFlagged || reasons.some((r) => r.code === 'guardrail-breach' || r.code === 'primary-worse');
  const action: RolloutAction = rollback ? 'rollback' : best ? 'promote' : 'continue';
  if (action === 'continue' && !reasons.some((r) => r.code === 'too-few-samples')) {
    reasons.push({
      code: 'no-decision-yet',
      message: 'no guardrail breached and no significant difference yet: keep going',
    });
  }
  return {
    action,
    ...(action === 'promote' && best ? { winner: best.name } : {}),
    reasons,
    srm,
    srmFlagged,
    tests,
    variants: latest.map((v) => {
      const t = totals(v.name);
      const p95 = histogramQuantile(t.latency, 0.95);
      return { name: v.name, assigned: t.assigned, ...(p95 === undefined ? {} : { latencyP95: p95 }) };
    }),
    memory,
  };
}

function difference(
  type: 'mean' | 'rate',
  metric: string,
  treatment: (VariantEvidence | undefined)[],
  control: (VariantEvidence | undefined)[],
): Estimate | undefined {
  return combineStrata(
    treatment.map((t, i) => {
      const c = control[i];
      if (type === 'mean') {
        return meanDifference(own(c?.means, metric) ?? emptyMean(), own(t?.means, metric) ?? emptyMean());
      }
      return rateDifference(own(c?.rates, metric) ?? emptyRate(), own(t?.rates, metric) ?? emptyRate());
    }),
  );
}

const P95_EXCESS = 0.05;

function guardrailKey(g: Guardrail, i: number): string {
  if (g.kind === 'latency-p95') return `guardrail:${i}:latency-p95:${g.maxMs}`;
  if (g.kind === 'rate-increase')
    return `guardrail:${i}:rate-increase:${g.rate}:${g.maxIncrease}:${g.tau ?? ''}`;
  return `guardrail:${i}:must-not-fall:${g.type}:${g.metric}:${g.maxDrop}:${g.tau ?? ''}`;
}

function guardrailTest(
  g: Guardrail,
  key: string,
  variant: string,
  treatment: (VariantEvidence | undefined)[],
  control: (VariantEvidence | undefined)[],
  alpha: number,
):
  | {
      result: Omit<TestResult, 'pValue' | 'lower' | 'upper'>;
      pValue: number;
      cs: [number, number];
      describe: (r: TestResult) => string;
    }
  | undefined {
  if (g.kind === 'latency-p95') {
    // p95 ≤ X ⇔ at most 5 % of requests above X: a sequential test of that share against 5 %.
    const { above, total } = countAbove(
      treatment.reduce((h: LatencyHistogram, t) => mergeHistograms(h, t?.latency ?? {}), {}),
      g.maxMs,
    );
    if (!total) return undefined;
    const share = above / total;
    const spread = Math.max(share * (1 - share), P95_EXCESS * (1 - P95_EXCESS));
    const est = { estimate: share, variance: spread / total };
    return {
      result: {
        key,
        variant,
        metric: 'latency p95',
        estimate: share,
        threshold: P95_EXCESS,
        breached: false,
      },
      pValue: share > P95_EXCESS ? msprtPValue(est, P95_EXCESS, P95_EXCESS) : 1,
      cs: confidenceSequence(est, P95_EXCESS, alpha),
      describe: (r) =>
        `latency p95 above ${g.maxMs} ms: ${fmt(r.estimate * 100)} % of requests exceed it [${fmt(r.lower * 100)} %, ${fmt(r.upper * 100)} %] (p95 allows 5 %), p = ${r.pValue.toPrecision(2)}`,
    };
  }
  const isRate = g.kind === 'rate-increase' || g.type === 'rate';
  const metric = g.kind === 'rate-increase' ? g.rate : g.metric;
  const threshold = g.kind === 'rate-increase' ? g.maxIncrease : g.maxDrop;
  const tau = g.tau ?? (threshold > 0 ? threshold : isRate ? 0.01 : undefined);
  if (tau === undefined) {
    throw new ValidationError(
      `guardrail on ${metric}: maxDrop is 0, so set its tau (the drop worth detecting, in the metric's units)`,
    );
  }
  const est = difference(isRate ? 'rate' : 'mean', metric, treatment, control);
  if (!est) return undefined;
  const theta0 = g.kind === 'rate-increase' ? threshold : -threshold;
  const past = g.kind === 'rate-increase' ? est.estimate > theta0 : est.estimate < theta0;
  const what = g.kind === 'rate-increase' ? `${metric} rose by` : `${metric} changed by`;
  const limit =
    g.kind === 'rate-increase' ? `more than +${fmt(threshold)}` : `a drop beyond −${fmt(threshold)}`;
  return {
    result: { key, variant, metric, estimate: est.estimate, threshold, breached: false },
    pValue: past ? msprtPValue(est, tau, theta0) : 1,
    cs: confidenceSequence(est, tau, alpha),
    describe: (r) =>
      `${what} ${fmt(r.estimate)} [${fmt(r.lower)}, ${fmt(r.upper)}] against the control, ${limit} with significance, p = ${r.pValue.toPrecision(2)}`,
  };
}
