import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../../lambdas/domain/ml/dataset.js';
import {
  CHURN_COLUMNS,
  type ChurnOptions,
  type ChurnRow,
  churnCsv,
  generateChurnRows,
  writeChurnCsv,
} from '../../../local/data/churn.js';

const rowsOf = (options: ChurnOptions): ChurnRow[] => [...generateChurnRows(options)];
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const share = (rows: readonly ChurnRow[], test: (r: ChurnRow) => boolean) =>
  rows.filter(test).length / rows.length;

describe('churn dataset generator', () => {
  const base = rowsOf({ rows: 20_000, seed: 3 });

  it('is deterministic for a seed, and different across seeds', () => {
    expect(churnCsv({ rows: 300, seed: 3 })).toBe(churnCsv({ rows: 300, seed: 3 }));
    expect(churnCsv({ rows: 300, seed: 4 })).not.toBe(churnCsv({ rows: 300, seed: 3 }));
  });

  it('has realistic marginals: ~1/3 churn, over-dispersed sessions, lognormal minutes, 2 % blanks', () => {
    expect(mean(base.map((r) => r.churned))).toBeGreaterThan(0.28);
    expect(mean(base.map((r) => r.churned))).toBeLessThan(0.4);
    const sessions = base.map((r) => r.sessions_per_week);
    const m = mean(sessions);
    const variance = mean(sessions.map((s) => (s - m) ** 2));
    expect(m).toBeGreaterThan(6);
    expect(m).toBeLessThan(7);
    expect(variance / m).toBeGreaterThan(1.8);
    const minutes = base.flatMap((r) => (r.avg_session_minutes === null ? [] : [r.avg_session_minutes]));
    const sorted = [...minutes].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeGreaterThan(18);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(22);
    expect(mean(minutes)).toBeGreaterThan(sorted[Math.floor(sorted.length / 2)] as number);
    expect(share(base, (r) => r.avg_session_minutes === null)).toBeCloseTo(0.02, 2);
    expect(share(base, (r) => r.platform === 'android')).toBeCloseTo(0.4, 1);
    expect(new Set(base.map((r) => r.player_id)).size).toBe(base.length);
  });

  it('carries the generating signal: churners play less and lapse longer', () => {
    const churners = base.filter((r) => r.churned === 1);
    const stayers = base.filter((r) => r.churned === 0);
    expect(mean(churners.map((r) => r.sessions_per_week))).toBeLessThan(
      mean(stayers.map((r) => r.sessions_per_week)),
    );
    expect(mean(churners.map((r) => r.days_since_last_login))).toBeGreaterThan(
      mean(stayers.map((r) => r.days_since_last_login)),
    );
  });

  it('moves exactly the marginals each drift knob names', () => {
    const drifted = (drift: ChurnOptions['drift']) => rowsOf({ rows: 20_000, seed: 3, drift });
    const fewerSessions = drifted({ sessionsPerWeekScale: 0.6 });
    expect(
      mean(fewerSessions.map((r) => r.sessions_per_week)) / mean(base.map((r) => r.sessions_per_week)),
    ).toBeCloseTo(0.6, 1);
    const lapsed = drifted({ daysSinceLoginShift: 6 });
    expect(
      mean(lapsed.map((r) => r.days_since_last_login)) - mean(base.map((r) => r.days_since_last_login)),
    ).toBeCloseTo(6, 0);
    const androidHeavy = drifted({ platformMix: { ios: 0.1, android: 0.8 } });
    expect(share(androidHeavy, (r) => r.platform === 'android')).toBeGreaterThan(0.65);
    expect(share(drifted({ missingRate: 0.15 }), (r) => r.avg_session_minutes === null)).toBeCloseTo(0.15, 2);
    // Concept drift: the same feature distribution, a higher churn rate.
    const concept = drifted({ churnBaseShift: 1 });
    expect(mean(concept.map((r) => r.sessions_per_week))).toBe(mean(base.map((r) => r.sessions_per_week)));
    expect(mean(concept.map((r) => r.churned)) - mean(base.map((r) => r.churned))).toBeGreaterThan(0.1);
  });

  it('adds latency and the caller’s prediction without changing the player rows', () => {
    const withExtras = rowsOf({
      rows: 500,
      seed: 3,
      extraColumns: { latency: true, score: (row) => Number(row.sessions_per_week) / 100 },
    });
    expect(withExtras.map(({ latency_ms: _l, prediction: _p, ...rest }) => rest)).toEqual(base.slice(0, 500));
    for (const r of withExtras) {
      expect(r.latency_ms).toBeGreaterThan(0);
      expect(r.prediction).toBe(Math.round(r.sessions_per_week * 100) / 10_000);
    }
    const header = churnCsv({ rows: 1, seed: 1, extraColumns: { latency: true, score: () => 0.5 } }).split(
      '\n',
    )[0];
    expect(header).toBe([...CHURN_COLUMNS, 'latency_ms', 'prediction'].join(','));
  });

  it('refuses bad options, naming the key and the value', () => {
    expect(() => churnCsv({ rows: -1, seed: 1 })).toThrow(/rows: got -1/);
    expect(() => churnCsv({ rows: 10, seed: 1.5 })).toThrow(/seed: got 1\.5/);
    expect(() => churnCsv({ rows: 10, seed: 1, drift: { missingRate: 2 } })).toThrow(
      /drift\.missingRate: got 2/,
    );
    expect(() =>
      churnCsv({ rows: 10, seed: 1, drift: { platformMix: { ios: 0, android: 0, pc: 0, console: 0 } } }),
    ).toThrow(/every platform weight 0/);
  });

  describe('writeChurnCsv', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlcycle-churn-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('streams exactly what churnCsv returns, readable by the trainer’s CSV reader', async () => {
      const options = { rows: 25_000, seed: 8, drift: { missingRate: 0.05 } };
      const path = join(dir, 'churn.csv');
      await writeChurnCsv(path, options);
      const text = readFileSync(path, 'utf8');
      expect(text).toBe(churnCsv(options));
      const table = parseCsv(text, 'churn.csv');
      expect(table.columns).toEqual([...CHURN_COLUMNS]);
      expect(table.rows).toHaveLength(25_000);
    });
  });
});
