import { DataError } from '../errors.js';

/**
 * The platform's split of a dataset into train, validation and holdout rows: seeded, and grouped
 * by a key column through a keyed hash, so every row of one key (a player) lands on the same side
 * and a row's side depends only on (seed, key), not on the order or the other rows (stable when
 * the dataset grows). Without a key, the row's index is its key.
 *
 * Minimal version written by the eval-pipeline lane until the task-metrics lane's splitRows lands.
 */
export interface SplitOptions {
  readonly holdoutFraction: number;
  readonly validationFraction: number;
  readonly seed: number;
  /** Column whose rows stay together; undefined = split by row. */
  readonly key?: string | undefined;
}

export interface SplitResult<T> {
  readonly train: T[];
  readonly validation: T[];
  readonly holdout: T[];
}

/** FNV-1a over "seed:key", 32 bits, then mixed (murmur3 finaliser) into [0, 1). */
export function keyedUnit(seed: number, key: string): number {
  let h = 0x811c9dc5;
  const text = `${seed >>> 0}:${key}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

export function splitRows<T extends Readonly<Record<string, string>>>(
  rows: readonly T[],
  options: SplitOptions,
): SplitResult<T> {
  const { holdoutFraction, validationFraction, seed, key } = options;
  if (!(holdoutFraction > 0 && holdoutFraction < 1)) {
    throw new DataError(`holdout fraction ${holdoutFraction} is not in (0, 1)`);
  }
  if (!(validationFraction >= 0 && holdoutFraction + validationFraction < 1)) {
    throw new DataError(
      `validation fraction ${validationFraction} with holdout fraction ${holdoutFraction} leaves no training rows`,
    );
  }
  const result: SplitResult<T> = { train: [], validation: [], holdout: [] };
  rows.forEach((row, i) => {
    const u = keyedUnit(seed, key === undefined ? `#${i}` : (row[key] ?? ''));
    const side =
      u < holdoutFraction ? 'holdout' : u < holdoutFraction + validationFraction ? 'validation' : 'train';
    result[side].push(row);
  });
  const by = key === undefined ? 'rows' : `distinct ${key} values`;
  if (!result.train.length || !result.holdout.length) {
    throw new DataError(
      `splitting ${rows.length} rows (holdout ${holdoutFraction}, seed ${seed}) left ${result.train.length} training and ` +
        `${result.holdout.length} holdout rows: the dataset needs more ${by}`,
    );
  }
  return result;
}
