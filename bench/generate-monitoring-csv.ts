import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Random } from '../lambdas/domain/ml/random.js';

/**
 * Seeded monitoring CSVs for the benchmark: 20 numeric and 2 categorical columns, about 210
 * bytes a row (1,000,000 rows ≈ 210 MB). A "shifted" file moves three numeric columns, the
 * mix of one categorical column and the missing rate of another column, so the drift run
 * has real drift to find. The generator is deterministic: same seed, same bytes.
 */
export interface BenchCsvOptions {
  readonly rows: number;
  readonly seed: number;
  readonly shifted: boolean;
}

export const NUMERIC_COLUMNS = 20;
const REGIONS = ['eu', 'na', 'sa', 'apac', 'mea'];
const DEVICES = ['ios', 'android', 'pc', 'console', 'web', 'switch'];

export function benchHeader(): string {
  const numeric = Array.from({ length: NUMERIC_COLUMNS }, (_, i) => `f${String(i + 1).padStart(2, '0')}`);
  return [...numeric, 'region', 'device'].join(',');
}

/** One value of numeric column c (different families so the sketches see varied shapes). */
function numericValue(rng: Random, c: number, shifted: boolean): string {
  const shift = shifted && c < 3 ? 0.35 * (c + 1) : 0;
  switch (c % 5) {
    case 0:
      return rng.normal(100 + shift * 15, 15).toFixed(6);
    case 1:
      return (rng.logNormal(3 + shift * 0.5, 0.6) + 0.001).toFixed(6);
    case 2:
      return (rng.next() * 1000 * (1 + shift)).toFixed(5);
    case 3:
      return rng.exponential(40 * (1 + shift)).toFixed(6);
    default:
      return (rng.normal(0, 1) * 250 + shift * 250).toFixed(5);
  }
}

export function* benchRows(o: BenchCsvOptions): Generator<string> {
  const rng = new Random(o.seed);
  const regionWeights = o.shifted ? [0.15, 0.2, 0.1, 0.45, 0.1] : [0.35, 0.3, 0.1, 0.2, 0.05];
  for (let r = 0; r < o.rows; r++) {
    const fields: string[] = [];
    for (let c = 0; c < NUMERIC_COLUMNS; c++) {
      const missing = c === 7 ? (o.shifted ? 0.25 : 0.05) : 0;
      fields.push(missing && rng.next() < missing ? '' : numericValue(rng, c, o.shifted));
    }
    fields.push(REGIONS[rng.choice(regionWeights)] as string);
    fields.push(DEVICES[Math.floor(rng.next() * DEVICES.length)] as string);
    yield fields.join(',');
  }
}

/** Writes the CSV unless an identical one (same options) is already there; returns its size. */
export async function ensureBenchCsv(path: string, o: BenchCsvOptions): Promise<number> {
  const marker = `${path}.options.json`;
  const wanted = JSON.stringify(o);
  if (existsSync(path) && existsSync(marker) && readFileSync(marker, 'utf8') === wanted) {
    return statSync(path).size;
  }
  mkdirSync(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  let buffer = `${benchHeader()}\n`;
  for (const row of benchRows(o)) {
    buffer += `${row}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
  writeFileSync(marker, wanted);
  return statSync(path).size;
}
