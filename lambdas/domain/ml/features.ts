import { DataError } from '../errors.js';

/** A raw table row as read from CSV (strings) or built in code (numbers, null for missing). */
export type RawRow = Readonly<Record<string, string | number | null | undefined>>;

export interface NumericFeature {
  readonly kind: 'numeric';
  readonly name: string;
  readonly mean: number;
  readonly std: number;
  /** A 0/1 input that is 1 when the value is missing (only when training saw missing values). */
  readonly missingIndicator: boolean;
}

export interface CategoricalFeature {
  readonly kind: 'categorical';
  readonly name: string;
  /** One-hot inputs, in this order; anything else goes to the trailing "other" input. */
  readonly categories: readonly string[];
}

export type FeatureSpec = NumericFeature | CategoricalFeature;

/** One-hot inputs per categorical; rarer values share the "(other)" input. */
export const MAX_CATEGORIES = 50;

export function isMissing(v: string | number | null | undefined): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
}

export function toNumber(v: string | number | null | undefined): number {
  if (typeof v === 'number') return v;
  return Number(v);
}

/** Width of the input vector a spec produces. */
export function width(spec: FeatureSpec): number {
  return spec.kind === 'numeric' ? (spec.missingIndicator ? 2 : 1) : spec.categories.length + 1;
}

/** Names of the inputs, aligned with the weight vector (for the model card). */
export function inputNames(specs: readonly FeatureSpec[]): string[] {
  return specs.flatMap((s) =>
    s.kind === 'numeric'
      ? [s.name, ...(s.missingIndicator ? [`${s.name} (missing)`] : [])]
      : [...s.categories.map((c) => `${s.name}=${c}`), `${s.name}=(other)`],
  );
}

/**
 * Learns the preprocessing from the training rows only: a column is numeric when every
 * present value parses as a finite number; numeric inputs are standardised and mean-imputed
 * (plus a missing indicator when training saw blanks), categoricals one-hot encoded over their
 * most frequent values with a trailing "(other)" input for unseen or rare ones. `warn` hears
 * about columns that look like identifiers (every value distinct), which rarely generalise.
 */
export function fitFeatures(
  rows: readonly RawRow[],
  columns: readonly string[],
  warn?: (message: string) => void,
): FeatureSpec[] {
  if (!rows.length) throw new DataError('cannot fit features on zero rows');
  return columns.map((name): FeatureSpec => {
    let present = 0;
    let numeric = true;
    let sum = 0;
    let sumSq = 0;
    const counts = new Map<string, number>();
    for (const row of rows) {
      const v = row[name];
      if (isMissing(v)) continue;
      present++;
      const n = toNumber(v);
      if (numeric && Number.isFinite(n)) {
        sum += n;
        sumSq += n * n;
      } else numeric = false;
      const key = String(v).trim();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    if (present === 0) {
      throw new DataError(
        `column "${name}" has no values in the training data; fill it or add it to the model's exclude list`,
      );
    }
    if (numeric) {
      const mean = sum / present;
      const variance = Math.max(0, sumSq / present - mean * mean);
      return {
        kind: 'numeric',
        name,
        mean,
        std: variance > 1e-12 ? Math.sqrt(variance) : 1,
        missingIndicator: present < rows.length,
      };
    }
    if (counts.size === present && present > MAX_CATEGORIES) {
      warn?.(
        `column "${name}" has a distinct value on every row (an identifier?); only ${MAX_CATEGORIES} of them get an input: add it to the model's exclude list`,
      );
    }
    const categories = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_CATEGORIES)
      .map(([c]) => c);
    return { kind: 'categorical', name, categories };
  });
}

/** The model's input vector for one row. */
export function encode(specs: readonly FeatureSpec[], row: RawRow, into?: Float64Array): Float64Array {
  const out = into ?? new Float64Array(specs.reduce((n, s) => n + width(s), 0));
  let i = 0;
  for (const spec of specs) {
    const v = row[spec.name];
    if (spec.kind === 'numeric') {
      const n = isMissing(v) ? Number.NaN : toNumber(v);
      const ok = Number.isFinite(n);
      out[i++] = ok ? (n - spec.mean) / spec.std : 0;
      if (spec.missingIndicator) out[i++] = ok ? 0 : 1;
    } else {
      const key = isMissing(v) ? '' : String(v).trim();
      const at = spec.categories.indexOf(key);
      for (let c = 0; c <= spec.categories.length; c++) out[i + c] = 0;
      out[i + (at >= 0 ? at : spec.categories.length)] = 1;
      i += spec.categories.length + 1;
    }
  }
  return out;
}
