import { describe, expect, it } from 'vitest';
import { type CompareOptions, compareProfiles } from '../../../lambdas/domain/drift/compare.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import type { Profile } from '../../../lambdas/domain/profile/profile.js';
import { profileBytes } from '../../../lambdas/domain/profile/profiler.js';

const options: CompareOptions = {
  thresholds: { low: 0.1, medium: 0.2, high: 0.3, critical: 0.5 },
  minSampleSize: 200,
};

interface Column {
  name: string;
  value: (r: Random) => string;
}

/** A seeded CSV profiled the way an upload is. */
function profileOf(rows: number, seed: number, columns: Column[]): Profile {
  const rng = new Random(seed);
  const parts: string[] = [columns.map((c) => c.name).join(',')];
  for (let i = 0; i < rows; i++) parts.push(columns.map((c) => c.value(rng)).join(','));
  return profileBytes(Buffer.from(`${parts.join('\n')}\n`), { format: 'csv' });
}

const num = (name: string, mean: number, sd = 1, missing = 0): Column => ({
  name,
  value: (r) => (missing && r.next() < missing ? '' : r.normal(mean, sd).toFixed(5)),
});
const cat = (name: string, values: string[], weights: number[]): Column => ({
  name,
  value: (r) => values[r.choice(weights)] as string,
});

const feature = (result: ReturnType<typeof compareProfiles>, name: string) => {
  const f = result.features.find((x) => x.name === name);
  if (!f) throw new Error(`no feature ${name}`);
  return f;
};

describe('drift decisions', () => {
  it('does not flag a 0.02σ shift at 10^6 rows, though its p-value is tiny (and reported)', () => {
    const base = profileOf(1_000_000, 1, [num('x', 0)]);
    const batch = profileOf(1_000_000, 2, [num('x', 0.02)]);
    const result = compareProfiles(base, batch, options);
    const x = feature(result, 'x');
    expect(x.status).toBe('ok');
    expect(x.severity).toBe('none');
    // both measures are judged beyond their noise margins and stay far under the 0.1 floor
    expect(x.details.ksBeyondNoise).toBeLessThan(0.01);
    expect(x.details.wassersteinNormalized).toBeLessThan(0.03);
    expect(x.score).toBeLessThan(0.05);
    expect(x.details.ks).toBeGreaterThan(0);
    expect(x.details.pValue).toBeLessThan(0.01);
    expect(result.overallSeverity).toBe('none');
    expect(result.datasetDrift).toBe(false);
  });

  it('flags a 1σ shift, by severity from the stated score, with an action', () => {
    const base = profileOf(20_000, 3, [num('x', 0), num('y', 0)]);
    const batch = profileOf(5_000, 4, [num('x', 1), num('y', 0)]);
    const result = compareProfiles(base, batch, options);
    const x = feature(result, 'x');
    // KS of N(0,1) vs N(1,1) is 0.383; beyond noise ≈ 0.383 − 1.8·√(25000/10^8) ≈ 0.355 → high
    // (W/σ ≈ 1 scores √(0.1·0.92) ≈ 0.30, so KS decides)
    expect(x.score).toBeGreaterThan(0.33);
    expect(x.score).toBeLessThan(0.38);
    expect(x.method).toBe('ks-beyond-noise');
    expect(x.severity).toBe('high');
    expect(x.recommendation).toMatch(/rose/);
    expect(feature(result, 'y').severity).toBe('none');
    expect(result.overallSeverity).toBe('high');
    expect(result.driftedShare).toBe(0.5);
    expect(result.datasetDrift).toBe(true);
    expect(x.chart.labels.length).toBe(x.chart.baseline.length);
    expect(x.details.psi).toBeGreaterThan(0.25);
    expect(x.details.wassersteinNormalized).toBeCloseTo(1, 1);
  });

  it('scores missing-rate change on its own: 5 % → 25 % missing is drift though KS is tiny', () => {
    const base = profileOf(20_000, 5, [num('x', 0, 1, 0.05), num('y', 0)]);
    const batch = profileOf(20_000, 6, [num('x', 0, 1, 0.25), num('y', 0)]);
    const x = feature(compareProfiles(base, batch, options), 'x');
    expect(x.details.ksBeyondNoise).toBeLessThan(0.05);
    expect(x.details.missingRate.baseline).toBeCloseTo(0.05, 2);
    expect(x.details.missingRate.batch).toBeCloseTo(0.25, 2);
    // the stated score is the change in missing rate (≈ 0.20 here) beyond its noise margin
    // (3 pooled standard errors: 3·√(0.15·0.85·2/20000) ≈ 0.011), on the same thresholds
    expect(x.details.missingRate.change).toBeCloseTo(0.2, 1);
    expect(x.details.missingRate.noiseMargin).toBeCloseTo(0.0107, 3);
    expect(['low', 'medium']).toContain(x.details.missingRate.severity);
    expect(x.severity).toBe(x.details.missingRate.severity);
    // and the record says so, rather than 'KS ≈ 0, medium'
    expect(x.method).toBe('missing-rate');
    expect(x.score).toBeCloseTo(
      Math.abs(x.details.missingRate.change) - (x.details.missingRate.noiseMargin ?? 1),
      5,
    );
    expect(x.details.ks).toBeLessThan(0.05);
    expect(x.recommendation).toMatch(/Missing values/);
  });

  it('equal missing rates at small samples do not flag: the change is judged beyond its noise margin', () => {
    // 50 % missing on both sides, 250 rows each: the rates differ by chance by ≈ 0.045 (one
    // standard error), so a rule on the raw change against the 0.1 floor flags ≈ 2.5 % of pairs.
    let rawFlags = 0;
    let flags = 0;
    for (let seed = 0; seed < 200; seed++) {
      const base = profileOf(250, 100 + 2 * seed, [num('x', 0, 1, 0.5), num('y', 0)]);
      const batch = profileOf(250, 101 + 2 * seed, [num('x', 0, 1, 0.5), num('y', 0)]);
      // (a second column: a line holding only an empty field would be a blank line)
      const x = feature(compareProfiles(base, batch, options), 'x');
      if (Math.abs(x.details.missingRate.change) >= options.thresholds.low) rawFlags++;
      if (x.details.missingRate.severity !== 'none') flags++;
      expect(x.details.missingRate.noiseMargin).toBeCloseTo(
        3 * Math.sqrt(0.25 * (2 / 250)),
        1, // the pooled rate is near, not at, 0.5
      );
    }
    // the seeded pairs do include chance changes the old rule called drift
    expect(rawFlags).toBeGreaterThan(0);
    expect(flags).toBe(0);
  });

  it('a real missing-rate jump (5 % → 20 %) at 10,000 rows is flagged in every seeded pair', () => {
    for (let seed = 0; seed < 10; seed++) {
      const base = profileOf(10_000, 300 + 2 * seed, [num('x', 0, 1, 0.05), num('y', 0)]);
      const batch = profileOf(10_000, 301 + 2 * seed, [num('x', 0, 1, 0.2), num('y', 0)]);
      const x = feature(compareProfiles(base, batch, options), 'x');
      expect(x.details.missingRate.noiseMargin).toBeLessThan(0.02);
      expect(x.details.missingRate.beyondNoise).toBeGreaterThan(0.1);
      expect(x.severity).toBe('low');
      expect(x.method).toBe('missing-rate');
    }
  });

  it('a column that is entirely missing in the batch is critical, not a crash', () => {
    const base = profileOf(1_000, 7, [num('x', 0), num('y', 0)]);
    const batch = profileOf(1_000, 8, [num('x', 0), { name: 'y', value: () => '' }]);
    const y = feature(compareProfiles(base, batch, options), 'y');
    expect(y.status).toBe('insufficient-data');
    // no values to compare, but the missing rate (0 → 100 %) decides, and the record says so
    expect(y.method).toBe('missing-rate');
    // 0 → 100 % less the margin of 1,000 vs 1,000 rows (3·√(0.25·0.002) ≈ 0.067)
    expect(y.score).toBeCloseTo(1 - 3 * Math.sqrt(0.25 * 0.002), 5);
    expect(y.details.missingRate.batch).toBe(1);
    expect(y.severity).toBe('critical');
  });

  it('says "insufficient data" below the minimum sample size instead of guessing', () => {
    const base = profileOf(10_000, 9, [num('x', 0), cat('c', ['a', 'b'], [0.5, 0.5])]);
    const batch = profileOf(150, 10, [num('x', 3), cat('c', ['a', 'b'], [0.9, 0.1])]);
    const result = compareProfiles(base, batch, options);
    for (const name of ['x', 'c']) {
      const f = feature(result, name);
      expect(f.status).toBe('insufficient-data');
      expect(f.score).toBeNull();
      expect(f.severity).toBe('none');
      expect(f.recommendation).toMatch(/150 values \(< 200\)/);
    }
    expect(result.status).toBe('insufficient-data');
    expect(result.overallSeverity).toBe('none');
    // the same shift with enough rows is flagged
    const enough = compareProfiles(
      base,
      profileOf(1_000, 10, [num('x', 3), cat('c', ['a', 'b'], [0.9, 0.1])]),
      options,
    );
    expect(feature(enough, 'x').severity).toBe('critical');
  });

  it('reports unseen and vanished categories, scored by Jensen–Shannon', () => {
    const base = profileOf(10_000, 11, [cat('region', ['eu', 'na', 'apac', 'sa'], [0.4, 0.3, 0.2, 0.1])]);
    const batch = profileOf(10_000, 12, [cat('region', ['eu', 'na', 'apac', 'mea'], [0.4, 0.3, 0.2, 0.1])]);
    const r = feature(compareProfiles(base, batch, options), 'region');
    expect(r.kind).toBe('categorical');
    expect(r.method).toBe('js-beyond-noise');
    expect(r.details.unseen).toEqual(['mea']);
    expect(r.details.vanished).toEqual(['sa']);
    // JS of moving 10 % of mass to a new category: √(0.1) in bits ≈ 0.316, less a noise margin
    // of ≈ 0.02 for 5 categories at 10k vs 10k rows → high
    expect(r.details.jensenShannon).toBeCloseTo(Math.sqrt(0.1), 2);
    expect(r.details.jensenShannonNoiseMargin).toBeGreaterThan(0.01);
    expect(r.details.jensenShannonNoiseMargin).toBeLessThan(0.03);
    expect(r.score).toBeCloseTo(
      (r.details.jensenShannon ?? 0) - (r.details.jensenShannonNoiseMargin ?? 0),
      5,
    );
    // (0.316 − 0.02 < 0.3: medium; the old rule counted sampling noise into the score)
    expect(r.severity).toBe('medium');
    expect(r.recommendation).toMatch(/New values: mea\. Gone: sa\./);
    const same = feature(
      compareProfiles(
        base,
        profileOf(10_000, 13, [cat('region', ['eu', 'na', 'apac', 'sa'], [0.4, 0.3, 0.2, 0.1])]),
        options,
      ),
      'region',
    );
    expect(same.severity).toBe('none');
    expect(same.details.unseen).toEqual([]);
  });

  it('reports columns missing from the batch and columns added to it', () => {
    const base = profileOf(1_000, 14, [num('x', 0), num('gone', 0)]);
    const batch = profileOf(1_000, 15, [num('x', 0), num('extra', 0)]);
    const result = compareProfiles(base, batch, options);
    const gone = feature(result, 'gone');
    expect(gone.status).toBe('missing-in-batch');
    expect(gone.severity).toBe('critical');
    expect(result.addedColumns).toEqual(['extra']);
    expect(result.warnings.join('\n')).toMatch(/not in the baseline were ignored: extra/);
  });
});
