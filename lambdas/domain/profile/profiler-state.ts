import { DataError } from '../errors.js';
import { ColumnAccumulator, type ColumnState } from './column-accumulator.js';
import { mergePerformance, type PerformanceState } from './performance.js';
import { columnSettings, type ProfileOptions, tooManyColumns } from './profile-options.js';

/** Where a skipped row was: its row number within a block of the file (block 0 = whole file). */
export interface RowRef {
  block: number;
  line: number;
}

/** Everything a profiler has gathered, as plain data: mergeable and sendable between threads. */
export interface ProfilerState {
  columns: ColumnState[];
  rows: number;
  ragged: number;
  oversized: number;
  unterminated: number;
  headerOversized: boolean;
  /** The first skipped rows (up to 10 per part). */
  examples: RowRef[];
  /** Row count per block pushed with pushBlock (to turn block-relative rows into file rows). */
  blockLines: [number, number][];
  warnings: string[];
  performance: PerformanceState | undefined;
}

/** Skipped rows kept as examples, per part and in the merged state. */
export const MAX_EXAMPLES = 10;

/**
 * Merges the states of parts of one file (same options), one at a time in file order, so a
 * caller can fold each part in as soon as it is done.
 */
export class ProfilerStateMerger {
  private readonly byName = new Map<string, ColumnAccumulator>();
  /** Everything but the columns, warnings and performance, added up. */
  private readonly totals: Omit<ProfilerState, 'columns' | 'warnings' | 'performance'> = {
    rows: 0,
    ragged: 0,
    oversized: 0,
    unterminated: 0,
    headerOversized: false,
    examples: [],
    blockLines: [],
  };
  private readonly warnings = new Set<string>();
  private performance: PerformanceState | undefined;

  constructor(private readonly options: ProfileOptions) {}

  add(s: ProfilerState): void {
    for (const c of s.columns) {
      const acc = this.byName.get(c.name);
      if (acc) acc.merge(c);
      else {
        const max = this.options.maxColumns ?? Number.POSITIVE_INFINITY;
        // parts under the cap each can add up to more than it
        if (this.byName.size >= max) throw new DataError(tooManyColumns(this.byName.size + 1, max, true));
        const fresh = ColumnAccumulator.fromState(c, ...columnSettings(this.options, this.byName.size));
        // a column first seen here (JSON keys appear anywhere) was missing from the rows before
        if (this.totals.rows) fresh.addMissing(this.totals.rows);
        this.byName.set(c.name, fresh);
      }
    }
    if (s.rows) {
      const seen = new Set(s.columns.map((c) => c.name));
      for (const [name, acc] of this.byName) if (!seen.has(name)) acc.addMissing(s.rows);
    }
    const t = this.totals;
    t.rows += s.rows;
    t.ragged += s.ragged;
    t.oversized += s.oversized;
    t.unterminated += s.unterminated;
    t.headerOversized ||= s.headerOversized;
    t.examples = t.examples
      .concat(s.examples)
      .sort((a, b) => a.block - b.block || a.line - b.line)
      .slice(0, MAX_EXAMPLES);
    t.blockLines.push(...s.blockLines);
    for (const w of s.warnings) this.warnings.add(w);
    if (s.performance) {
      this.performance = this.performance ? mergePerformance(this.performance, s.performance) : s.performance;
    }
  }

  state(): ProfilerState {
    return {
      ...this.totals,
      columns: [...this.byName.values()].map((a) => a.state()),
      blockLines: [...this.totals.blockLines].sort((a, b) => a[0] - b[0]),
      warnings: [...this.warnings],
      performance: this.performance,
    };
  }
}

/** Merges the states of parts of one file (same options), in file order. */
export function mergeProfilerStates(
  states: readonly ProfilerState[],
  options: ProfileOptions,
): ProfilerState {
  const merger = new ProfilerStateMerger(options);
  for (const s of states) merger.add(s);
  return merger.state();
}
