import { mean } from 'simple-statistics';
import type { Severity } from '../../contracts/drift-summary.js';
import type { DriftRecord } from './record.js';
import { maxSeverity } from './severity.js';

export interface DriftTrend {
  batches: number;
  errors: number;
  worstSeverity: Severity;
  days: { day: string; batches: number; worstSeverity: Severity; meanDriftedShare: number }[];
  topFeatures: { name: string; drifted: number; worstSeverity: Severity }[];
}

/** The `drift report` summary: per day and per feature, over batch records. */
export function summarizeTrend(records: readonly DriftRecord[], _days: number): DriftTrend {
  const batches = records.filter((r) => r.kind === 'batch');
  const byDay = new Map<string, DriftRecord[]>();
  for (const r of batches)
    byDay.set(r.checkedAt.slice(0, 10), [...(byDay.get(r.checkedAt.slice(0, 10)) ?? []), r]);
  const features = new Map<string, { drifted: number; worst: Severity }>();
  for (const r of batches) {
    for (const f of r.features) {
      const e = features.get(f.name) ?? { drifted: 0, worst: 'none' as Severity };
      if (f.severity !== 'none') e.drifted++;
      e.worst = maxSeverity(e.worst, f.severity);
      features.set(f.name, e);
    }
  }
  return {
    batches: batches.length,
    errors: batches.filter((r) => r.status === 'error').length,
    worstSeverity: maxSeverity(...batches.map((r) => r.overallSeverity)),
    days: [...byDay.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([day, rs]) => ({
        day,
        batches: rs.length,
        worstSeverity: maxSeverity(...rs.map((r) => r.overallSeverity)),
        meanDriftedShare: mean(rs.map((r) => r.driftedShare)),
      })),
    topFeatures: [...features.entries()]
      .filter(([, v]) => v.drifted > 0)
      .sort((a, b) => b[1].drifted - a[1].drifted)
      .slice(0, 10)
      .map(([name, v]) => ({ name, drifted: v.drifted, worstSeverity: v.worst })),
  };
}
