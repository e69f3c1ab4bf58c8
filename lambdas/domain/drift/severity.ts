import type { Severity } from '../../contracts/drift-summary.js';

export interface Thresholds {
  readonly low: number;
  readonly medium: number;
  readonly high: number;
  readonly critical: number;
}

export const SEVERITY_ORDER: readonly Severity[] = ['none', 'low', 'medium', 'high', 'critical'];

export function severityOf(score: number | null, t: Thresholds): Severity {
  if (score === null || !Number.isFinite(score)) return 'none';
  if (score >= t.critical) return 'critical';
  if (score >= t.high) return 'high';
  if (score >= t.medium) return 'medium';
  if (score >= t.low) return 'low';
  return 'none';
}

export function maxSeverity(...s: Severity[]): Severity {
  return s.reduce(
    (a, b) => (SEVERITY_ORDER.indexOf(b) > SEVERITY_ORDER.indexOf(a) ? b : a),
    'none' as Severity,
  );
}

export function atLeast(s: Severity, floor: Severity): boolean {
  return SEVERITY_ORDER.indexOf(s) >= SEVERITY_ORDER.indexOf(floor);
}
