import { higherIsBetter } from '../../contracts/config-gates.js';

type Value = string | number | boolean | null;

/** One run or version as `runs compare` lines it up: what it was given and what was measured. */
export interface ComparableRun {
  /** How the user named it: a run id or a version. */
  readonly label: string;
  readonly facts: Readonly<Record<string, Value>>;
  readonly parameters: Readonly<Record<string, Value>>;
  readonly metrics: Readonly<Record<string, number | undefined>>;
}

export interface ComparisonRow {
  readonly section: 'run' | 'parameter' | 'metric';
  readonly name: string;
  /** One per run, in the order given; null where the run has no such key. */
  readonly values: readonly Value[];
  /** The runs do not all agree (a key one of them lacks counts as a difference). */
  readonly differs: boolean;
  /** For a metric: the index of the best value (higher or lower is better by the metric). */
  readonly best?: number;
}

const keysOf = (
  runs: readonly ComparableRun[],
  pick: (r: ComparableRun) => Readonly<Record<string, unknown>>,
) => [...new Set(runs.flatMap((r) => Object.keys(pick(r))))].sort();

const differs = (values: readonly Value[]) => new Set(values.map((v) => JSON.stringify(v))).size > 1;

/**
 * Runs side by side: their facts (dataset, duration, version…), every parameter any of them set
 * and every metric any of them has, each row marked when the runs differ and, for a metric, which
 * run is best. At least two runs: comparing one with nothing says nothing.
 */
export function compareRuns(runs: readonly ComparableRun[]): ComparisonRow[] {
  if (runs.length < 2)
    throw new RangeError(`compare needs at least two runs or versions, got ${runs.length}`);
  const rows: ComparisonRow[] = [];
  for (const name of keysOf(runs, (r) => r.facts)) {
    const values = runs.map((r) => r.facts[name] ?? null);
    rows.push({ section: 'run', name, values, differs: differs(values) });
  }
  for (const name of keysOf(runs, (r) => r.parameters)) {
    const values = runs.map((r) => r.parameters[name] ?? null);
    rows.push({ section: 'parameter', name, values, differs: differs(values) });
  }
  for (const name of keysOf(runs, (r) => r.metrics)) {
    const values = runs.map((r) => r.metrics[name] ?? null);
    const present = values.flatMap((v, i) => (typeof v === 'number' ? [{ v, i }] : []));
    const up = higherIsBetter(name);
    const best = present.length
      ? present.reduce((a, b) => ((up ? b.v > a.v : b.v < a.v) ? b : a)).i
      : undefined;
    rows.push({
      section: 'metric',
      name,
      values,
      differs: differs(values),
      ...(best !== undefined && present.length > 1 ? { best } : {}),
    });
  }
  return rows;
}
