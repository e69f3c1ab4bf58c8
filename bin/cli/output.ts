import { hasControlCharacters, neutralizeInline, neutralizeLines } from '../../lambdas/domain/text.js';
import type { Output } from './types.js';

/*
 * Everything the CLI prints for people goes through here, and none of it reaches the terminal
 * with a control character in it: a comment, reason, identity or CSV-derived name holding ESC,
 * CR or a bidi override is shown neutralised (lambdas/domain/text.ts), never acted on. JSON
 * stays exact: the same values once parsed.
 */

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(4);
  if (typeof value === 'object') return neutralizeInline(JSON.stringify(value));
  return neutralizeInline(String(value));
}

/** Column-aligned text, headers from the first row's keys unless columns are given. */
export function renderTable(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  if (!rows.length) return '(none)';
  const cols = columns ?? Object.keys(rows[0] ?? {});
  const cells = rows.map((r) => cols.map((c) => cell(r[c])));
  const headers = cols.map((c) => neutralizeInline(c.toUpperCase()));
  const widths = headers.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 but leaves DEL, C1, the bidi controls and the
 * line/paragraph separators raw; they can only occur inside strings, where \uXXXX is the same value.
 */
export function renderJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(
    /[\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/g,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}

const MAX_QUOTED = 10_000;

/** The strings in a result that hold a control character (the values a human text may quote). */
function unsafeStrings(value: unknown, found = new Set<string>(), depth = 0): Set<string> {
  if (found.size >= MAX_QUOTED || depth > 20) return found;
  if (typeof value === 'string') {
    if (hasControlCharacters(value)) found.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) unsafeStrings(v, found, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      unsafeStrings(k, found, depth + 1);
      unsafeStrings(v, found, depth + 1);
    }
  }
  return found;
}

/**
 * A command's human text: where it quotes a string of its result that holds a control
 * character, that string is shown on one line (so a reason with a newline cannot add a line that
 * looks like ours); then every line is neutralised, whatever the text quoted.
 */
export function renderHuman(text: string, value?: unknown): string {
  let out = text;
  const quoted = [...unsafeStrings(value)].sort((a, b) => b.length - a.length);
  for (const s of quoted) if (out.includes(s)) out = out.split(s).join(neutralizeInline(s));
  return neutralizeLines(out);
}

export function createOutput(
  json: boolean,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Output {
  return {
    json,
    table(rows, columns) {
      out.write(json ? `${renderJson(rows)}\n` : `${renderTable(rows, columns)}\n`);
    },
    result(value, human) {
      out.write(json ? `${renderJson(value)}\n` : `${renderHuman(human(), value)}\n`);
    },
    /** Progress lines are one line each. */
    info(line) {
      (json ? err : out).write(`${neutralizeInline(line)}\n`);
    },
  };
}
