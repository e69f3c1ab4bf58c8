/**
 * The head of a data file, read before it is profiled in parallel: its CSV header row, where
 * its data starts, and the column kinds its first rows support.
 */
import { sniffCsvKinds } from './csv-header.js';
import { CsvScanner, fieldText } from './csv-scanner.js';
import type { ColumnKind } from './profile.js';
import type { ProfileOptions } from './profile-options.js';
import { Profiler } from './profiler.js';

/** How much of a file's start is read for its header and kinds. */
export const SNIFF_BYTES = 1 << 20;
const LF = 0x0a;

/** The column names of a CSV header row (quotes, BOM handled as everywhere else). */
export function csvHeaderNames(header: Buffer): string[] {
  return (
    findCsvHeader(header, Number.POSITIVE_INFINITY, true)?.names ?? [fieldText(header, 0, header.length, 0)]
  );
}

/**
 * Kinds from the first rows (whole rows in `bytes`, at most SNIFF_BYTES of them read), with the
 * options' own kinds on top, so every part of a file profiled in parallel reads every column alike.
 */
export function sniffKinds(
  bytes: Buffer,
  options: ProfileOptions,
  header: readonly string[] | undefined,
): Record<string, ColumnKind> {
  let rows = bytes.subarray(0, SNIFF_BYTES);
  if (rows.length < bytes.length) rows = rows.subarray(0, rows.lastIndexOf(LF) + 1);
  let kinds: Record<string, ColumnKind>;
  if (header) kinds = sniffCsvKinds(rows, header, options.maxRowBytes);
  else {
    const sniff = new Profiler({ ...options, pinAfterRows: Number.POSITIVE_INFINITY });
    sniff.pushBlock(rows, 0);
    kinds = sniff.kinds();
  }
  return Object.assign(Object.create(null), kinds, options.kinds ?? {});
}

/**
 * The CSV header row at the start of `head`: its names, where the data starts, its line count.
 * `whole`: head is all there is, so a last row without a newline still counts.
 */
export function findCsvHeader(head: Buffer, maxRowBytes: number, whole = false) {
  let names: string[] | undefined;
  const scanner: CsvScanner = new CsvScanner(
    {
      header: (columns) => {
        names = columns;
        scanner.stopAt = 0; // stop at the first data row: stoppedAt is where the data starts
      },
      row: () => undefined,
      oversized: () => undefined,
      unterminated: () => undefined,
    },
    maxRowBytes,
  );
  scanner.push(head);
  if (!names && whole) scanner.end();
  if (!names) return undefined;
  return { names, dataStart: scanner.stoppedAt ?? head.length, lines: scanner.lines };
}
