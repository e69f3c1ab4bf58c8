import type { ColumnAccumulator } from './column-accumulator.js';
import { fieldText, parseNumber } from './csv-scanner.js';

/**
 * Markers of a missing value besides an empty field: pandas' default na_values, case-sensitive
 * as there (so a category "na", e.g. North America, stays a category).
 */
export const NULL_TOKENS: ReadonlySet<string> = new Set([
  '',
  'NA',
  'N/A',
  'n/a',
  '#N/A',
  '<NA>',
  'NULL',
  'null',
  'NaN',
  'nan',
  '-NaN',
  '-nan',
  'None',
]);

/** Flag bit of a field whose quotes were doubled inside it ("" stands for "). */
export const ESCAPED_QUOTES = 1;

/** What addCsvField tells a column: a ColumnAccumulator, or a sniff that only counts. */
export type FieldSink = Pick<
  ColumnAccumulator,
  'wantsNumber' | 'wantsText' | 'addMissing' | 'addNumber' | 'addText'
>;

/**
 * What one CSV field, bytes buf[start, end), adds to its column: the definition both CSV paths
 * and the kind sniff share (the fast row kernel hands over every field it does not take
 * itself). Empty is missing; a number (spaces around it allowed) is a number unless the column
 * is categorical; other text is trimmed, a null token is missing, the rest is text (invalid in
 * a numeric column).
 */
export function addCsvField(acc: FieldSink, buf: Buffer, start: number, end: number, flags: number): void {
  if (end <= start) {
    acc.addMissing();
    return;
  }
  if (acc.wantsNumber && !(flags & ESCAPED_QUOTES)) {
    const x = parseNumber(buf, start, end);
    if (Number.isFinite(x)) {
      acc.addNumber(x, acc.wantsText ? buf.toString('utf8', start, end).trim() : undefined);
      return;
    }
  }
  const text = fieldText(buf, start, end, flags).trim();
  if (NULL_TOKENS.has(text)) acc.addMissing();
  else acc.addText(text);
}
