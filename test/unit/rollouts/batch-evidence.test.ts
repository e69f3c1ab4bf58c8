import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RolloutEvidence } from '../../../lambdas/contracts/rollout-evidence.js';
import { DataError } from '../../../lambdas/domain/errors.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { assign } from '../../../lambdas/domain/rollouts/assignment.js';
import {
  type BatchColumns,
  BatchEvidenceAccumulator,
  type BatchEvidenceOptions,
  batchEvidenceProblem,
  type Row,
} from '../../../lambdas/domain/rollouts/batch-evidence.js';
import { histogramQuantile, mergeEvidence, rateOf } from '../../../lambdas/domain/rollouts/evidence.js';
import { sampleRatioMismatch } from '../../../lambdas/domain/rollouts/srm.js';

const variants = [
  { name: 'canary', version: '1.1.0' },
  { name: 'control', version: '1.0.0' },
];
const columns: BatchColumns = {
  variant: 'variant',
  player: 'player_id',
  latencyMs: 'latency_ms',
  error: 'error',
  outcomes: { revenue: 'mean', converted: 'rate' },
  label: 'churned',
  prediction: 'prediction',
};
const options: BatchEvidenceOptions = { columns, variants, step: '0', task: 'binary' };

/** Seeded rows: 10 % canary, players with 1–3 rows each, integer revenue (sums stay exact). */
function rows(seed: number, players: number): Row[] {
  const rng = new Random(seed);
  const out: Row[] = [];
  for (let p = 0; p < players; p++) {
    const canary = rng.next() < 0.1;
    const sessions = 1 + Math.floor(rng.next() * 3);
    for (let s = 0; s < sessions; s++) {
      const label = rng.next() < 0.3 ? 1 : 0;
      out.push({
        variant: canary ? (rng.next() < 0.5 ? 'canary' : '1.1.0') : 'control',
        player_id: `p${seed}-${p}`,
        latency_ms: String(Math.round(rng.logNormal(Math.log(canary ? 80 : 40), 0.3))),
        error: rng.next() < (canary ? 0.05 : 0.01) ? 'true' : '0',
        revenue: String(Math.floor(rng.next() * 20)),
        converted: rng.next() < 0.1 ? 1 : 0,
        churned: String(label),
        prediction: String(label === 1 ? 0.6 + rng.next() * 0.3 : rng.next() * 0.55),
      });
    }
  }
  return out;
}

function aggregate(rs: readonly Row[], o: BatchEvidenceOptions = options) {
  const acc = new BatchEvidenceAccumulator(o);
  for (const r of rs) acc.add(r);
  return acc.result();
}

/** Compare ignoring key order. */
const canonical = (e: RolloutEvidence) =>
  JSON.parse(
    JSON.stringify(e, (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
    ),
  );

describe('a monitoring batch as rollout evidence', () => {
  it('counts distinct players per variant, maps versions to variants and fills every configured metric', () => {
    const rs = rows(7, 2000);
    const b = aggregate(rs);
    const step = b.evidence.steps['0'];
    const canaryPlayers = new Set(rs.filter((r) => r.variant !== 'control').map((r) => r.player_id));
    const controlPlayers = new Set(rs.filter((r) => r.variant === 'control').map((r) => r.player_id));
    expect(step?.canary?.assigned).toBe(canaryPlayers.size);
    expect(step?.control?.assigned).toBe(controlPlayers.size);
    expect((b.rowsByVariant.canary ?? 0) + (b.rowsByVariant.control ?? 0)).toBe(rs.length);
    expect(b.rows).toBe(rs.length);
    expect(b.unknownVariantRows).toBe(0);
    const canaryRows = rs.filter((r) => r.variant !== 'control');
    expect(step?.canary?.rates.error?.trials).toBe(canaryRows.length);
    expect(step?.canary?.rates.error?.successes).toBe(canaryRows.filter((r) => r.error === 'true').length);
    expect(step?.canary?.means.revenue?.sum).toBe(canaryRows.reduce((s, r) => s + Number(r.revenue), 0));
    expect(step?.canary?.rates.converted?.trials).toBe(canaryRows.length);
    // the canary was drawn twice as slow: its p95 is about twice the control's
    const p95 = (v: string) => histogramQuantile(step?.[v]?.latency ?? {}, 0.95) ?? 0;
    expect(p95('canary') / p95('control')).toBeGreaterThan(1.7);
    expect(p95('canary') / p95('control')).toBeLessThan(2.3);
    // live quality: predictions ≥ 0.5 for positives, < 0.55 for negatives → mostly correct
    const correct = step?.control?.rates.correct;
    expect(correct?.trials).toBe(rs.length - canaryRows.length);
    expect(rateOf(correct ?? { successes: 0, trials: 0 })).toBeGreaterThan(0.9);
    expect(rateOf(correct ?? { successes: 0, trials: 0 })).toBeLessThan(1);
    expect(b.invalid).toEqual({});
  });

  it('aggregating a batch in parts and merging equals aggregating it whole (split by player)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.nat({ max: 2 ** 31 }), (seed, splitSeed) => {
        const rs = rows(seed, 60);
        const rng = new Random(splitSeed);
        const part = new Map<unknown, number>();
        const parts: Row[][] = [[], [], []];
        for (const r of rs) {
          if (!part.has(r.player_id)) part.set(r.player_id, Math.floor(rng.next() * 3));
          parts[part.get(r.player_id) ?? 0]?.push(r);
        }
        const merged = parts.map((p) => aggregate(p).evidence).reduce(mergeEvidence, { steps: {} });
        expect(canonical(merged)).toEqual(canonical(aggregate(rs).evidence));
      }),
      { seed: 13, numRuns: 60 },
    );
  });

  it('an arbitrary split changes only assigned, which counts a player once per part', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.nat({ max: 500 }), (seed, cut) => {
        const rs = rows(seed, 40);
        const at = Math.min(cut, rs.length);
        const [a, b] = [aggregate(rs.slice(0, at)), aggregate(rs.slice(at))];
        const merged = mergeEvidence(a.evidence, b.evidence);
        const whole = aggregate(rs).evidence;
        for (const v of ['canary', 'control']) {
          const m = merged.steps['0']?.[v];
          const w = whole.steps['0']?.[v];
          if (!w) continue;
          expect(canonical({ steps: { x: { v: { ...w, assigned: 0 } } } })).toEqual(
            canonical({ steps: { x: { v: { ...(m ?? w), assigned: 0 } } } }),
          );
          const inBoth = new Set(
            rs
              .slice(0, at)
              .filter((r) => (r.variant === 'control') === (v === 'control'))
              .map((r) => r.player_id),
          );
          const second = new Set(
            rs
              .slice(at)
              .filter((r) => (r.variant === 'control') === (v === 'control'))
              .map((r) => r.player_id),
          );
          const overlap = [...inBoth].filter((p) => second.has(p)).length;
          expect(m?.assigned).toBe(w.assigned + overlap);
        }
      }),
      { seed: 14, numRuns: 60 },
    );
  });

  it('counts and reports rows of unknown variants, and refuses a batch where they are more than 1 %', () => {
    const rs = rows(3, 500);
    const few = [...rs, { ...rs[0], variant: 'treatment-b' }];
    const ok = aggregate(few);
    expect(ok.unknownVariantRows).toBe(1);
    expect(ok.unknownVariants).toEqual([{ value: 'treatment-b', rows: 1 }]);
    expect(ok.rows).toBe(rs.length + 1);
    expect(batchEvidenceProblem(ok, variants, 'variant')).toBeUndefined();

    const many = [
      ...rs,
      ...rs.slice(0, 50).map((r) => ({ ...r, variant: '2.0.0' })),
      { ...rs[0], variant: '' },
    ];
    const bad = aggregate(many);
    expect(bad.unknownVariantRows).toBe(51);
    const problem = batchEvidenceProblem(bad, variants, 'variant');
    expect(problem).toContain('51 of');
    expect(problem).toContain('"2.0.0" ×50');
    expect(problem).toContain('"(empty)" ×1');
    expect(problem).toContain('canary (1.1.0), control (1.0.0)');
    expect(batchEvidenceProblem(aggregate([]), variants, 'variant')).toBe('the batch has no rows');
  });

  it('counts bad values per column, rows without a player, and players seen under two variants', () => {
    const b = aggregate([
      { variant: 'canary', player_id: 'a', latency_ms: 'slow', error: 'maybe', revenue: '', converted: 1 },
      { variant: 'control', player_id: 'a', latency_ms: -3, error: false, revenue: 4, converted: 'no' },
      { variant: 'control', player_id: '', latency_ms: 12, error: 1, revenue: 2, converted: true },
    ]);
    expect(b.invalid).toEqual({ latency_ms: 2, error: 1, revenue: 1 });
    expect(b.missingPlayerRows).toBe(1);
    expect(b.playersInSeveralVariants).toBe(1);
    expect(b.evidence.steps['0']?.control?.assigned).toBe(1);
    expect(b.evidence.steps['0']?.control?.rates.error).toEqual({ successes: 1, trials: 2 });
    // unlabelled rows are no quality evidence (and no fault)
    expect(b.evidence.steps['0']?.control?.rates.correct).toBeUndefined();
  });

  it('measures regression quality as the mean absolute error, multiclass as the share correct', () => {
    const reg = aggregate(
      [
        { variant: 'canary', player_id: 'a', y: '3', prediction: '1.5' },
        { variant: 'canary', player_id: 'b', y: 2, prediction: 2.5 },
      ],
      {
        ...options,
        task: 'regression',
        columns: {
          variant: 'variant',
          player: 'player_id',
          outcomes: {},
          label: 'y',
          prediction: 'prediction',
        },
      },
    );
    expect(reg.evidence.steps['0']?.canary?.means.abs_error).toEqual({ n: 2, sum: 2, sumSq: 2.5 });
    const multi = aggregate(
      [
        { variant: 'control', player_id: 'a', y: 'cat', prediction: 'cat' },
        { variant: 'control', player_id: 'b', y: 'dog', prediction: 'cat' },
      ],
      {
        ...options,
        task: 'multiclass',
        columns: {
          variant: 'variant',
          player: 'player_id',
          outcomes: {},
          label: 'y',
          prediction: 'prediction',
        },
      },
    );
    expect(multi.evidence.steps['0']?.control?.rates.correct).toEqual({ successes: 1, trials: 2 });
  });

  it('refuses an outcome named like a metric it fills itself, and keeps a __proto__ variant value as data', () => {
    expect(
      () =>
        new BatchEvidenceAccumulator({ ...options, columns: { ...columns, outcomes: { error: 'rate' } } }),
    ).toThrow(DataError);
    const b = aggregate([{ variant: '__proto__', player_id: 'x' }]);
    expect(b.unknownVariants).toEqual([{ value: '__proto__', rows: 1 }]);
    expect(Object.keys(b.evidence.steps)).toEqual([]);
  });
});

describe('players across batches: the exposure column', () => {
  const rolloutId = 'churn.production.1';
  const weighted = [
    { name: 'canary', version: '1.1.0', weight: 1000 },
    { name: 'control', version: '1.0.0', weight: 9000 },
  ];
  // 4,000 daily players, each first seen on one of the first 5 days, then back every day: 20 days.
  const players = Array.from({ length: 4000 }, (_, i) => ({ id: `player-${i}`, first: i % 5 }));
  const day = (d: number, exposure: boolean): Row[] =>
    players
      .filter((p) => p.first <= d)
      .map((p) => ({
        player_id: p.id,
        variant: assign(rolloutId, p.id, weighted).name,
        ...(exposure ? { first_exposure: p.first === d ? 'true' : 'false' } : {}),
      }));
  const over20Days = (cols: BatchColumns, exposure: boolean) => {
    let merged: RolloutEvidence = { steps: {} };
    for (let d = 0; d < 20; d++) {
      const acc = new BatchEvidenceAccumulator({
        columns: cols,
        variants: weighted,
        step: '0',
        task: 'binary',
      });
      for (const r of day(d, exposure)) acc.add(r);
      merged = mergeEvidence(merged, acc.result().evidence);
    }
    const step = merged.steps['0'] ?? {};
    return { canary: step.canary?.assigned ?? 0, control: step.control?.assigned ?? 0 };
  };
  const plain: BatchColumns = { variant: 'variant', player: 'player_id', outcomes: {} };
  const truth = {
    canary: players.filter((p) => assign(rolloutId, p.id, weighted).name === 'canary').length,
    control: players.filter((p) => assign(rolloutId, p.id, weighted).name === 'control').length,
  };
  const srm = (counts: Record<string, number>) =>
    sampleRatioMismatch({ '0': { weights: { canary: 1000, control: 9000 }, counts } });

  it('without it, a returning player counts once per batch: the χ² grows with the days until a healthy canary looks broken', () => {
    const counted = over20Days(plain, false);
    // every player is counted on each day from their first: 18 times on average, not once
    expect(counted.canary + counted.control).toBe(players.reduce((s, p) => s + (20 - p.first), 0));
    expect(srm(counted).statistic).toBeGreaterThan(15 * srm(truth).statistic);
    // the assignment is right (the published rule), yet the check would flag it at srmAlpha
    expect(srm(truth).pValue).toBeGreaterThan(0.001);
    expect(srm(counted).pValue).toBeLessThan(0.001);
  });

  it('with it, each player is counted once over the whole rollout: the counts and the check are exact', () => {
    expect(over20Days({ ...plain, exposure: 'first_exposure' }, true)).toEqual(truth);
    expect(srm(over20Days({ ...plain, exposure: 'first_exposure' }, true)).pValue).toBe(srm(truth).pValue);
  });
});
