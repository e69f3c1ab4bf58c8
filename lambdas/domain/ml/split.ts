import { ValidationError } from '../errors.js';
import { fmix32, fnv1a32 } from '../hash32.js';
import { parseCsv, toCsv } from './dataset.js';
import type { RawRow } from './features.js';

/**
 * The platform's train / validation / holdout split. Each group (a split-key value, or a row on
 * its own when there is no key) goes to a side by a seeded hash of the group alone, so:
 * - every row of a key value lands on the same side (no customer in both train and holdout);
 * - the split is deterministic for a seed, and stable when rows are appended: an earlier row
 *   keeps its side (without a key a row's group is its index, so inserting rows moves later ones);
 * - a reader can decide row by row (sideOfGroup) without holding the file.
 * Fractions are met in expectation, not exactly: a side's share varies like a binomial over
 * the number of groups (±1.3% at 10k groups for a 20% holdout, 3 standard deviations).
 * Rows whose key is blank form one group ("" is a value like any other).
 */

export type SplitSide = 'train' | 'validation' | 'holdout';

export interface SplitOptions {
  /** Share of groups held out for the platform's evaluation, in (0, 1). */
  readonly holdoutFraction: number;
  /** Share of groups given to the train entry as MLCYCLE_VALIDATION, in [0, 1). @default 0 */
  readonly validationFraction?: number;
  /** A non-negative integer (evaluation.seed, default 42 in the config). */
  readonly seed: number;
  /** Column whose rows stay on one side (evaluation.splitKey). */
  readonly key?: string | undefined;
}

/** A group: a split-key value, or a row index when there is no key. */
export type SplitGroup = { readonly key: string } | { readonly row: number };

function checkOptions(options: SplitOptions): void {
  const { holdoutFraction: h, validationFraction: v = 0, seed } = options;
  if (!(h > 0 && h < 1)) {
    throw new ValidationError(`holdoutFraction ${h} must be between 0 and 1 (exclusive), e.g. 0.2`);
  }
  if (!(v >= 0 && v < 1)) {
    throw new ValidationError(
      `validationFraction ${v} must be at least 0 and below 1, e.g. 0.1 (0: no validation set)`,
    );
  }
  if (h + v >= 1) {
    throw new ValidationError(
      `holdoutFraction ${h} + validationFraction ${v} leaves no rows to train on; keep their sum below 1`,
    );
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new ValidationError(`seed ${seed} must be a non-negative integer, e.g. 42`);
  }
}

/** FNV-1a over the UTF-16 code units, then murmur3's finaliser so near inputs spread out. */
function hash32(text: string): number {
  const units = Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
  return fmix32(fnv1a32(units));
}

/** Uniform in [0, 1) per (seed, group); key values and row indices never collide. */
function position(group: SplitGroup, seed: number): number {
  const name = 'key' in group ? `k\u0000${group.key}` : `r\u0000${group.row}`;
  // Two independent 32-bit hashes give 53 bits: no visible granularity at any fraction.
  const high = hash32(`${seed}\u0000a\u0000${name}`);
  const low = hash32(`${seed}\u0000b\u0000${name}`) >>> 11;
  return (high * 2 ** 21 + low) / 2 ** 53;
}

/** The side of one group; splitRows is this applied to every row. */
export function sideOfGroup(group: SplitGroup, options: SplitOptions): SplitSide {
  checkOptions(options);
  return sideAt(position(group, options.seed), options);
}

function sideAt(u: number, options: SplitOptions): SplitSide {
  if (u < options.holdoutFraction) return 'holdout';
  if (u < options.holdoutFraction + (options.validationFraction ?? 0)) return 'validation';
  return 'train';
}

/** The side of every row, in order. A key column missing from a row is a ValidationError. */
export function splitRows(rows: readonly RawRow[], options: SplitOptions): SplitSide[] {
  checkOptions(options);
  const { key, seed } = options;
  const memo = new Map<string, SplitSide>();
  return rows.map((row, i) => {
    if (key === undefined) return sideAt(position({ row: i }, seed), options);
    if (!(key in row)) {
      throw new ValidationError(
        `split key "${key}" is not a column of row ${i + 1} (columns: ${Object.keys(row).join(', ')}); ` +
          'set evaluation.splitKey to one of them or remove it',
      );
    }
    const value = String(row[key] ?? '');
    let side = memo.get(value);
    if (side === undefined) {
      side = sideAt(position({ key: value }, seed), options);
      memo.set(value, side);
    }
    return side;
  });
}

export interface CsvSplit {
  /** Every column, the target included (MLCYCLE_TRAIN). */
  readonly train: string;
  /** Every column (MLCYCLE_VALIDATION); undefined when validationFraction is 0. */
  readonly validation: string | undefined;
  /** The holdout without the target column: what the predict entry reads. */
  readonly holdoutFeatures: string;
  /** The holdout's target only (header: the target's name), in the same row order. */
  readonly holdoutLabels: string;
  readonly counts: { readonly train: number; readonly validation: number; readonly holdout: number };
}

/**
 * Splits a dataset CSV (header + rows) into the files of a run (s3-layout RUN_INPUTS):
 * input/train.csv, input/validation.csv, input/holdout-features.csv and
 * evaluation/holdout-labels.csv. A side left without rows is a ValidationError saying why.
 */
export function splitCsv(text: string, options: SplitOptions & { readonly target: string }): CsvSplit {
  checkOptions(options);
  const { columns, rows } = parseCsv(text, 'the dataset');
  const { target, key } = options;
  if (!columns.includes(target)) {
    throw new ValidationError(
      `target column "${target}" is not in the dataset (columns: ${columns.join(', ')})`,
    );
  }
  const sides = splitRows(rows, options);
  const pick = (side: SplitSide) => rows.filter((_, i) => sides[i] === side);
  const train = pick('train');
  const validation = pick('validation');
  const holdout = pick('holdout');
  const wanted: [SplitSide, number, number][] = [
    ['train', train.length, 1],
    ['holdout', holdout.length, options.holdoutFraction],
    ['validation', validation.length, options.validationFraction ?? 0],
  ];
  for (const [side, count, fraction] of wanted) {
    if (count > 0 || fraction === 0) continue;
    const groups = key === undefined ? rows.length : new Set(rows.map((r) => r[key])).size;
    const what = key === undefined ? 'row(s), each its own group' : `distinct "${key}" value(s)`;
    throw new ValidationError(
      `the ${side} got 0 of ${rows.length} rows (${groups} ${what}; holdoutFraction ${options.holdoutFraction}, ` +
        `validationFraction ${options.validationFraction ?? 0}, seed ${options.seed}): ` +
        'use more data, more distinct split-key values, other fractions or another seed',
    );
  }
  const features = columns.filter((c) => c !== target);
  return {
    train: toCsv(columns, train),
    validation: validation.length ? toCsv(columns, validation) : undefined,
    holdoutFeatures: toCsv(features, holdout),
    holdoutLabels: toCsv([target], holdout),
    counts: { train: train.length, validation: validation.length, holdout: holdout.length },
  };
}
