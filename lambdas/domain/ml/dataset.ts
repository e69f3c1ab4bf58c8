import { parse } from 'csv-parse/sync';
import { DataError } from '../errors.js';
import type { RawRow } from './features.js';
import { Random } from './random.js';

export interface CsvTable {
  readonly columns: string[];
  readonly rows: Record<string, string>[];
}

/**
 * Parses a CSV with a header row (quotes, CRLF and a BOM handled by csv-parse). A ragged row,
 * a repeated column name or a table without data rows is a DataError naming what is wrong.
 */
export function parseCsv(text: string, what: string): CsvTable {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (err) {
    throw new DataError(`${what} is not readable CSV: ${(err as Error).message}`, undefined, { cause: err });
  }
  const [header, ...body] = records;
  if (!header?.length) throw new DataError(`${what} is empty: it needs a header row and data rows`);
  if (!body.length) throw new DataError(`${what} has a header (${header.join(', ')}) but no data rows`);
  const columns = header.map((c) => c.trim());
  const repeated = columns.find((c, i) => columns.indexOf(c) !== i);
  if (repeated !== undefined) throw new DataError(`${what} has the column "${repeated}" twice in its header`);
  const rows = body.map((values) => Object.fromEntries(columns.map((c, i) => [c, values[i] ?? ''])));
  return { columns, rows };
}

/**
 * Reads the binary target: 1/0 in any numeric spelling ("1", "1.0") or true/false. Any other
 * value, a blank included, is a DataError naming the data row (1-based, after the header).
 */
export function binaryTarget(rows: readonly RawRow[], target: string, what: string): (0 | 1)[] {
  return rows.map((row, i) => {
    const raw = row[target];
    const text = String(raw ?? '')
      .trim()
      .toLowerCase();
    if (text === 'true') return 1;
    if (text === 'false') return 0;
    const n = text === '' ? Number.NaN : Number(text);
    if (n === 1 || n === 0) return n;
    throw new DataError(
      `${what}: target "${target}" must be binary (0/1 or true/false) but data row ${i + 1} has ${JSON.stringify(raw ?? '')}`,
    );
  });
}

/**
 * A seeded split by row: the same rows in the same order and the same seed always give the
 * same holdout. At least one row lands on each side.
 */
export function splitHoldout<T>(
  rows: readonly T[],
  fraction: number,
  seed: number,
): { train: T[]; holdout: T[] } {
  if (!(fraction > 0 && fraction < 1)) throw new DataError(`holdout fraction ${fraction} is not in (0, 1)`);
  if (rows.length < 2) throw new DataError(`cannot split ${rows.length} row(s) into training and holdout`);
  const order = new Random((seed ^ 0x5f3759df) >>> 0).shuffle([...rows.keys()]);
  const holdoutSize = Math.min(rows.length - 1, Math.max(1, Math.round(rows.length * fraction)));
  const inHoldout = new Uint8Array(rows.length);
  for (const i of order.slice(0, holdoutSize)) inHoldout[i] = 1;
  const train: T[] = [];
  const holdout: T[] = [];
  rows.forEach((r, i) => {
    (inHoldout[i] ? holdout : train).push(r);
  });
  return { train, holdout };
}

function quote(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Serialises rows back to CSV (RFC 4180 quoting where needed), keeping the column order. */
export function toCsv(columns: readonly string[], rows: readonly RawRow[]): string {
  const lines = [columns.map(quote).join(',')];
  for (const r of rows) lines.push(columns.map((c) => quote(r[c])).join(','));
  return `${lines.join('\n')}\n`;
}
