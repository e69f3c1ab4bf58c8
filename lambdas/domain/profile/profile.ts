import { KllSketch, type KllState } from './kll.js';
import { mergePerformance, type PerformanceState } from './performance.js';

export type ColumnKind = 'numeric' | 'categorical';

export interface NumericProfile {
  kind: 'numeric';
  count: number;
  missing: number;
  /** Present but not a number (in a column the schema says is numeric). */
  invalid: number;
  mean: number;
  /** Sum of squared deviations (Welford), so profiles merge exactly (Chan et al.). */
  m2: number;
  min: number;
  max: number;
  sketch: KllState;
}

export interface CategoricalProfile {
  kind: 'categorical';
  count: number;
  missing: number;
  counts: Record<string, number>;
  /** Values beyond the category cap, counted together. */
  other: number;
}

export type ColumnProfile = NumericProfile | CategoricalProfile;

/** A data file's profile: small, JSON, mergeable (daily batches roll up without re-reading). */
export interface Profile {
  schema: 'mlcycle.profile/v1';
  rows: number;
  columns: Record<string, ColumnProfile>;
  /** Rows skipped whole (ragged, oversized), with the first few line numbers. */
  skipped: { ragged: number; oversized: number; examples: number[] };
  warnings: string[];
  /** Labelled batches: predictions against labels (when both columns are present). */
  performance?: PerformanceState;
}

export function variance(p: NumericProfile): number {
  return p.count > 1 ? p.m2 / (p.count - 1) : 0;
}

export function missingRate(p: ColumnProfile): number {
  const total = p.count + p.missing + (p.kind === 'numeric' ? p.invalid : 0);
  return total ? (p.missing + (p.kind === 'numeric' ? p.invalid : 0)) / total : 0;
}

/** Merges b into a copy of a (same schema). */
export function mergeProfiles(a: Profile, b: Profile, categoricalCap = 200): Profile {
  const columns: Record<string, ColumnProfile> = Object.create(null);
  for (const name of new Set([...Object.keys(a.columns), ...Object.keys(b.columns)])) {
    const x = a.columns[name];
    const y = b.columns[name];
    if (!x || !y) {
      columns[name] = (x ?? y) as ColumnProfile;
      continue;
    }
    if (x.kind === 'numeric' && y.kind === 'numeric') {
      const n = x.count + y.count;
      const delta = y.mean - x.mean;
      const sketch = KllSketch.fromJSON(x.sketch);
      sketch.merge(KllSketch.fromJSON(y.sketch));
      columns[name] = {
        kind: 'numeric',
        count: n,
        missing: x.missing + y.missing,
        invalid: x.invalid + y.invalid,
        mean: n ? x.mean + (delta * y.count) / n : 0,
        m2: x.m2 + y.m2 + (n ? (delta * delta * x.count * y.count) / n : 0),
        min: Math.min(x.min, y.min),
        max: Math.max(x.max, y.max),
        sketch: sketch.toJSON(),
      };
    } else if (x.kind === 'categorical' && y.kind === 'categorical') {
      const counts: Record<string, number> = Object.assign(Object.create(null), x.counts);
      for (const [k, v] of Object.entries(y.counts)) counts[k] = (counts[k] ?? 0) + v;
      const sorted = Object.entries(counts).sort((p, q) => q[1] - p[1]);
      const kept = Object.fromEntries(sorted.slice(0, categoricalCap));
      const spill = sorted.slice(categoricalCap).reduce((s, [, v]) => s + v, 0);
      columns[name] = {
        kind: 'categorical',
        count: x.count + y.count,
        missing: x.missing + y.missing,
        counts: kept,
        other: x.other + y.other + spill,
      };
    } else {
      throw new Error(`column "${name}" is numeric in one profile and categorical in the other`);
    }
  }
  return {
    schema: 'mlcycle.profile/v1',
    rows: a.rows + b.rows,
    columns,
    skipped: {
      ragged: a.skipped.ragged + b.skipped.ragged,
      oversized: a.skipped.oversized + b.skipped.oversized,
      examples: [...a.skipped.examples, ...b.skipped.examples].slice(0, 10),
    },
    warnings: [...new Set([...a.warnings, ...b.warnings])],
    ...(a.performance && b.performance
      ? { performance: mergePerformance(a.performance, b.performance) }
      : {}),
  };
}
