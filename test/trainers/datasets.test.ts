import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../lambdas/domain/ml/dataset.js';
import { generateLtvRows, LTV_COLUMNS, type LtvRow, ltvCsv, writeLtvCsv } from '../../local/data/ltv.js';
import {
  generateSegmentRows,
  SEGMENT_COLUMNS,
  SEGMENTS,
  type SegmentRow,
  segmentsCsv,
  writeSegmentsCsv,
} from '../../local/data/segments.js';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const share = <T>(rows: readonly T[], test: (r: T) => boolean) => rows.filter(test).length / rows.length;

describe('ltv dataset generator', () => {
  const rows: LtvRow[] = [...generateLtvRows({ rows: 20_000, seed: 5 })];

  it('is deterministic for a seed, and different across seeds', () => {
    expect(ltvCsv({ rows: 300, seed: 5 })).toBe(ltvCsv({ rows: 300, seed: 5 }));
    expect(ltvCsv({ rows: 300, seed: 6 })).not.toBe(ltvCsv({ rows: 300, seed: 5 }));
    expect(ltvCsv({ rows: 3, seed: 5 }).split('\n')[0]).toBe(LTV_COLUMNS.join(','));
  });

  it('has the shape of revenue: most spend nothing, the target is heavy-tailed and never negative', () => {
    expect(share(rows, (r) => r.spend_30d === 0)).toBeGreaterThan(0.55);
    expect(share(rows, (r) => r.spend_30d === 0)).toBeLessThan(0.75);
    const ltv = rows.map((r) => r.ltv_90d).sort((a, b) => a - b);
    expect(Math.min(...ltv)).toBeGreaterThanOrEqual(0);
    const median = ltv[ltv.length / 2] as number;
    expect(median).toBeGreaterThan(0.5);
    expect(median).toBeLessThan(5);
    expect(mean(ltv)).toBeGreaterThan(3 * median);
    expect(ltv[Math.floor(0.99 * ltv.length)]).toBeGreaterThan(100);
    expect(share(rows, (r) => r.avg_session_minutes === null)).toBeCloseTo(0.02, 2);
    expect(new Set(rows.map((r) => r.player_id)).size).toBe(rows.length);
  });

  it('follows its generating model: the truth explains ~75 % of the variance, noise is mean-one', () => {
    const y = rows.map((r) => r.ltv_90d);
    const truth = rows.map((r) => r.expected_ltv_90d);
    const my = mean(y);
    const r2 = 1 - mean(y.map((v, i) => (v - (truth[i] as number)) ** 2)) / mean(y.map((v) => (v - my) ** 2));
    expect(r2).toBeGreaterThan(0.65);
    expect(r2).toBeLessThan(0.85);
    expect(mean(y) / mean(truth)).toBeCloseTo(1, 1);
    // Spenders are worth more, and lapsed players less.
    expect(mean(rows.filter((r) => r.spend_30d > 20).map((r) => r.ltv_90d))).toBeGreaterThan(5 * my);
    expect(mean(rows.filter((r) => r.days_since_last_login > 10).map((r) => r.ltv_90d))).toBeLessThan(my);
  });

  it('refuses bad options, naming the key and the value', () => {
    expect(() => ltvCsv({ rows: -1, seed: 1 })).toThrow(/ltv dataset options: rows: got -1/);
    expect(() => ltvCsv({ rows: 1, seed: 1, missingRate: 2 })).toThrow(/missingRate: got 2/);
  });
});

describe('segments dataset generator', () => {
  const rows: SegmentRow[] = [...generateSegmentRows({ rows: 20_000, seed: 5 })];

  it('is deterministic for a seed, and different across seeds', () => {
    expect(segmentsCsv({ rows: 300, seed: 5 })).toBe(segmentsCsv({ rows: 300, seed: 5 }));
    expect(segmentsCsv({ rows: 300, seed: 6 })).not.toBe(segmentsCsv({ rows: 300, seed: 5 }));
  });

  it('has the documented class mix: casual ~39 %, core ~35 %, churn_risk ~22 %, whale ~4 %', () => {
    const rate = (segment: string) => share(rows, (r) => r.segment === segment);
    expect(rate('casual')).toBeCloseTo(0.39, 1);
    expect(rate('core')).toBeCloseTo(0.35, 1);
    expect(rate('churn_risk')).toBeCloseTo(0.22, 1);
    expect(rate('whale')).toBeGreaterThan(0.025);
    expect(rate('whale')).toBeLessThan(0.06);
  });

  it('follows its generating model: draws match the true probabilities, Bayes accuracy ~63 %', () => {
    for (const segment of SEGMENTS) {
      const expected = mean(rows.map((r) => r.segment_probabilities[segment]));
      expect(share(rows, (r) => r.segment === segment)).toBeCloseTo(expected, 1);
    }
    const bayes = share(rows, (r) => {
      const best = SEGMENTS.reduce((a, b) =>
        r.segment_probabilities[a] >= r.segment_probabilities[b] ? a : b,
      );
      return best === r.segment;
    });
    expect(bayes).toBeGreaterThan(0.58);
    expect(bayes).toBeLessThan(0.68);
    // Whales spend, churn risks lapse, core players play.
    const by = (segment: string, pick: (r: SegmentRow) => number) =>
      mean(rows.filter((r) => r.segment === segment).map(pick));
    expect(by('whale', (r) => r.spend_30d)).toBeGreaterThan(5 * by('casual', (r) => r.spend_30d));
    expect(by('churn_risk', (r) => r.days_since_last_login)).toBeGreaterThan(
      2 * by('core', (r) => r.days_since_last_login),
    );
    expect(by('core', (r) => r.sessions_per_week)).toBeGreaterThan(by('casual', (r) => r.sessions_per_week));
  });
});

describe('writing the tables', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-tables-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams exactly what the CSV functions return, readable by the platform’s CSV reader', async () => {
    const options = { rows: 5_000, seed: 9 };
    await writeLtvCsv(join(dir, 'ltv.csv'), options);
    await writeSegmentsCsv(join(dir, 'segments.csv'), options);
    expect(readFileSync(join(dir, 'ltv.csv'), 'utf8')).toBe(ltvCsv(options));
    expect(readFileSync(join(dir, 'segments.csv'), 'utf8')).toBe(segmentsCsv(options));
    const ltv = parseCsv(readFileSync(join(dir, 'ltv.csv'), 'utf8'), 'ltv.csv');
    expect(ltv.columns).toEqual([...LTV_COLUMNS]);
    expect(ltv.rows).toHaveLength(5_000);
    const segments = parseCsv(readFileSync(join(dir, 'segments.csv'), 'utf8'), 'segments.csv');
    expect(segments.columns).toEqual([...SEGMENT_COLUMNS]);
  });
});
