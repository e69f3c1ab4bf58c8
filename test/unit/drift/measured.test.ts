import { describe, expect, it } from 'vitest';
import { type CompareOptions, compareProfiles } from '../../../lambdas/domain/drift/compare.js';
import { measuredLine, measuredOf } from '../../../lambdas/domain/drift/measured.js';
import { renderDriftReport } from '../../../lambdas/domain/drift/report-html.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { profileBytes } from '../../../lambdas/domain/profile/profiler.js';

const options: CompareOptions = {
  thresholds: { low: 0.1, medium: 0.2, high: 0.3, critical: 0.5 },
  minSampleSize: 200,
};

function profileOf(rows: number, seed: number, spread: number, missing: number) {
  const r = new Random(seed);
  const lines = ['x,c'];
  for (let i = 0; i < rows; i++)
    lines.push(
      `${r.next() < missing ? '' : r.normal(0, spread).toFixed(4)},${['a', 'b', 'c'][r.choice([5, 3, 2])]}`,
    );
  return profileBytes(Buffer.from(`${lines.join('\n')}\n`), { format: 'csv' });
}

const result = compareProfiles(profileOf(5_000, 1, 1, 0.02), profileOf(4_000, 2, 1.6, 0.02), options);
const feature = (name: string) => {
  const f = result.features.find((x) => x.name === name);
  if (!f) throw new Error(`no ${name}`);
  return f;
};

describe('what was measured', () => {
  it('keeps raw distance, noise margin, p-value, W/σ, PSI and missing rates in percent per column', () => {
    const x = measuredOf(feature('x'));
    expect(x.ks).toBeGreaterThan(0.05);
    expect(x.ksNoiseMargin).toBeCloseTo(1.8 * Math.sqrt(9_000 / 20_000_000), 2);
    expect(x.pValueTest).toBe('ks');
    expect(x.pValue).toBeLessThan(1e-6);
    expect(x.wassersteinNormalized).toBeGreaterThan(0.3);
    expect(x.wassersteinNoiseMargin).toBeGreaterThan(0);
    expect(x.psi).toBeGreaterThan(0);
    // percent, not a share: 2 % missing reads 2, not 0.02
    expect(x.missingPercent.baseline).toBeGreaterThan(1);
    expect(x.missingPercent.baseline).toBeLessThan(3);
    // and the margin the change was judged against, in points: 3·√(0.02·0.98·(1/5000 + 1/4000)) ≈ 0.89
    expect(x.missingPercent.noiseMargin).toBeGreaterThan(0.7);
    expect(x.missingPercent.noiseMargin).toBeLessThan(1.05);
    const c = measuredOf(feature('c'));
    expect(c.pValueTest).toBe('chi-square');
    expect(c.jensenShannonNoiseMargin).toBeGreaterThan(0);
    expect(c.ks).toBeUndefined();
    expect(measuredLine(x)).toMatch(
      /^KS 0\.\d+ \(noise 0\.\d+, p \d\.\de-\d+\) · W\/σ 0\.\d+ \(noise 0\.\d+\) · PSI [\d.]+ · missing [\d.]+ % → [\d.]+ %$/,
    );
    expect(measuredLine(c)).toMatch(
      /^JS [\d.]+ \(noise [\d.]+, χ² p [\d.e-]+\) · PSI [\d.]+ · missing 0 % → 0 %$/,
    );
  });

  it('the report names its baseline, shows the margins and gives every column a chart with y-axis values', () => {
    const html = renderDriftReport(
      'churn',
      'monitoring/churn/batches/day1.csv',
      result,
      '2026-03-02T00:00:00Z',
      'monitoring/churn/baseline/jan.csv',
    );
    expect(html).toContain('baseline <code>monitoring/churn/baseline/jan.csv</code>');
    expect(html).toMatch(/<th>noise margin<\/th>/);
    // two columns, one drifted and one not: both have a chart, and each chart its y-axis ticks
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html.match(/text-anchor="end" fill="#555">0\.0%<\/text>/g)).toHaveLength(2);
    expect(html).toMatch(/missing [\d.]+ % → [\d.]+ %/);
    expect(html).toMatch(/[\d.]+ % → [\d.]+ % <small>\(noise 0\.\d+ pts\)<\/small>/);
    expect(html).not.toMatch(/0\.02\d* → /);
  });
});
