import { parse } from 'csv-parse/sync';
import { DataError } from '../errors.js';
import type { RawRow } from './features.js';
import { Random } from './random.js';

/** Parses a CSV with a header row (quotes, CRLF and a BOM handled by csv-parse). */
export function parseCsv(text: string, what: string): { columns: string[]; rows: Record<string, string>[] } {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (err) {
    throw new DataError(`${what} is not readable CSV: ${(err as Error).message}`);
  }
  const [header, ...body] = records;
  if (!header?.length) throw new DataError(`${what} is empty: it needs a header row and data rows`);
  if (!body.length) throw new DataError(`${what} has a header but no data rows`);
  const columns = header.map((c) => c.trim());
  const rows = body.map((values) => Object.fromEntries(columns.map((c, i) => [c, values[i] ?? ''])));
  return { columns, rows };
}

/** Reads the binary target: 0/1 (or true/false); any other value is named in the error. */
export function binaryTarget(rows: readonly RawRow[], target: string, what: string): number[] {
  return rows.map((row, i) => {
    const v = String(row[target] ?? '')
      .trim()
      .toLowerCase();
    if (v === '1' || v === 'true') return 1;
    if (v === '0' || v === 'false') return 0;
    throw new DataError(
      `${what}: target "${target}" must be 0/1 but row ${i + 2} has ${JSON.stringify(row[target] ?? '')}`,
    );
  });
}

/** A seeded split: the same dataset and seed always give the same holdout rows. */
export function splitHoldout<T>(
  rows: readonly T[],
  fraction: number,
  seed: number,
): { train: T[]; holdout: T[] } {
  const order = new Random(seed ^ 0x5f3759df).shuffle([...rows.keys()]);
  const holdoutSize = Math.max(1, Math.round(rows.length * fraction));
  const holdoutIdx = new Set(order.slice(0, holdoutSize));
  const train: T[] = [];
  const holdout: T[] = [];
  rows.forEach((r, i) => {
    (holdoutIdx.has(i) ? holdout : train).push(r);
  });
  return { train, holdout };
}

/** Serialises rows back to CSV, quoting where needed. */
export function toCsv(columns: readonly string[], rows: readonly RawRow[]): string {
  const quote = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[columns.join(','), ...rows.map((r) => columns.map((c) => quote(r[c])).join(','))].join('\n')}\n`;
}
