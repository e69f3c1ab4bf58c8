/**
 * Checks on the first bytes of a data file, made before it is profiled: a file that is not
 * UTF-8 text (binary, UTF-16, NUL bytes) or is wider than the column cap is refused with the
 * reason, rather than profiled into nonsense ("19 rows" of random bytes) or into a process
 * that runs out of memory (every column holds a sketch).
 */
import { DataError } from '../errors.js';
import { type DataFormat, tooManyColumns } from './profile-options.js';

const LF = 0x0a;
const COMMA = 0x2c;
const QUOTE = 0x22;

/** Why `head` (the start of a file, maybe cut mid-character) is not UTF-8 text; undefined when it is. */
export function notTextReason(head: Buffer): string | undefined {
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    return `it is UTF-16 (byte-order mark ${head[0] === 0xff ? 'FF FE' : 'FE FF'}); save it as UTF-8`;
  }
  const nul = head.indexOf(0);
  if (nul >= 0) {
    let nuls = 0;
    const sample = Math.min(head.length, 4096);
    for (let i = 0; i < sample; i++) if (head[i] === 0) nuls++;
    return nuls * 4 >= sample
      ? `it has NUL bytes at every other position (first at byte ${nul}): it looks like UTF-16 without a byte-order mark; save it as UTF-8`
      : `it has NUL bytes (first at byte ${nul}): it is binary, not a text file`;
  }
  // the head may end inside a character: drop a trailing incomplete sequence before decoding
  let end = head.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const b = head[end - back] as number;
    if (b < 0x80) break;
    if (b >= 0xc0) {
      end -= back;
      break;
    }
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
  } catch {
    return 'it is not valid UTF-8 text (binary, or another encoding); save it as UTF-8 CSV or JSON lines';
  }
  return undefined;
}

/**
 * The number of columns the head shows: the CSV header's fields (quote-aware), or the distinct
 * keys of the JSON lines read. `atLeast`: the header goes on past the head, so the file has at
 * least that many.
 */
export function columnCount(head: Buffer, format: DataFormat): { count: number; atLeast: boolean } {
  if (format === 'csv') {
    let fields = 1;
    let quoted = false;
    for (let i = 0; i < head.length; i++) {
      const b = head[i];
      if (b === QUOTE) quoted = !quoted;
      else if (!quoted && b === COMMA) fields++;
      else if (!quoted && b === LF) return { count: fields, atLeast: false };
    }
    return { count: fields, atLeast: true };
  }
  const keys = new Set<string>();
  const text = head.toString('utf8');
  const whole = text.slice(0, text.lastIndexOf('\n') + 1) || text;
  for (const line of whole.split('\n')) {
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === 'object' && !Array.isArray(value))
        for (const k of Object.keys(value)) keys.add(k);
    } catch {
      // a line that is not JSON is counted (and reported) by the profiler
    }
  }
  return { count: keys.size, atLeast: whole.length < text.length };
}

/** Throws a DataError naming the reason when the file that starts with `head` must not be profiled. */
export function checkDataHead(name: string, head: Buffer, format: DataFormat, maxColumns: number): void {
  const reason = notTextReason(head);
  if (reason) throw new DataError(`"${name}" was refused: ${reason}`);
  const { count, atLeast } = columnCount(head, format);
  if (count > maxColumns) {
    throw new DataError(`"${name}": ${tooManyColumns(count, maxColumns, atLeast)}`);
  }
}

/**
 * What is wrong with a training dataset (a CSV) that starts with `head` (all of it when `whole`),
 * for a model whose target column is `target`; undefined when nothing is. Checked before it is
 * uploaded, so a run never trains on (or fails hours later on) an unreadable file.
 */
export function datasetProblem(head: Buffer, target: string, whole: boolean): string | undefined {
  if (head.length === 0) return 'it is empty';
  const reason = notTextReason(head);
  if (reason) return reason;
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  const text = head.subarray(bom).toString('utf8');
  const newline = text.indexOf('\n');
  if (newline < 0 && !whole) return 'its header row is longer than the first megabyte';
  const header = parseHeader((newline < 0 ? text : text.slice(0, newline)).replace(/\r$/, ''));
  if (!header.includes(target)) {
    const shown = header.slice(0, 20).join(', ');
    return `it has no target column "${target}" (its columns: ${shown}${header.length > 20 ? ', …' : ''}); check the file, or the model's target in the config`;
  }
  if (newline < 0 || !text.slice(newline + 1).trim()) return 'it has a header but no data rows';
  return undefined;
}

/** A CSV header row's names (quoted names unquoted). */
function parseHeader(line: string): string[] {
  const names: string[] = [];
  let name = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      if (quoted && line[i + 1] === '"') {
        name += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      names.push(name.trim());
      name = '';
    } else name += ch;
  }
  names.push(name.trim());
  return names;
}
