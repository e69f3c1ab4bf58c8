import { DEFAULT_SKETCH_K } from './kll.js';
import type { ColumnKind } from './profile.js';

export type DataFormat = 'csv' | 'jsonl';

export interface ProfileOptions {
  readonly format: DataFormat;
  /** Kinds to use instead of inferring (pinned in config, or the baseline's). */
  readonly kinds?: Readonly<Record<string, ColumnKind>>;
  readonly categoricalCap?: number;
  readonly sketchK?: number;
  readonly seed?: number;
  readonly maxRowBytes?: number;
  /**
   * Columns a file may have (monitoring.maxColumns): one more (a CSV header, a JSON key first
   * seen late, the union of parts) is a DataError, since every column holds a sketch.
   */
  readonly maxColumns?: number;
  /** Label and prediction columns: when both are in the file, performance is measured too. */
  readonly performance?: { readonly label: string; readonly prediction: string };
  /**
   * Data rows after which a column whose kind is still open is settled from what it has seen
   * (numeric if every present value parsed as a number). Later text in a numeric column is
   * counted as invalid, reported, and scored as missing. Default 10,000; parts of a file
   * profiled in parallel get their kinds from the first rows instead (see sniffKinds).
   */
  readonly pinAfterRows?: number;
  /**
   * CSV rows in the usual form go through the fast reader (FastCsvRows); false sends every row
   * through the general one. The profile is the same either way (tests compare the two).
   * @default true
   */
  readonly fastRows?: boolean;
}

export const DEFAULT_MAX_ROW_BYTES = 1 << 20;

/** The DataError for a file with more columns than the cap (`atLeast`: counted so far). */
export function tooManyColumns(count: number, maxColumns: number, atLeast = false): string {
  return `the file has ${atLeast ? 'at least ' : ''}${count} columns, more than monitoring.maxColumns ${maxColumns}: drop columns the model does not use, or raise monitoring.maxColumns (each column costs memory)`;
}
export const DEFAULT_PIN_AFTER_ROWS = 10_000;
export const DEFAULT_CATEGORICAL_CAP = 200;

/**
 * What the column at `index` is given wherever it is made (a profiler, a merge, the finish):
 * its category cap, sketch size and seed, in ColumnAccumulator's argument order. Parts of one
 * file made with the same options therefore agree column by column.
 */
export function columnSettings(options: ProfileOptions, index: number): [number, number, number] {
  return [
    options.categoricalCap ?? DEFAULT_CATEGORICAL_CAP,
    options.sketchK ?? DEFAULT_SKETCH_K,
    (options.seed ?? 1) + index,
  ];
}
