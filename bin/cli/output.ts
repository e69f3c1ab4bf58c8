import type { Output } from './types.js';

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(4);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Column-aligned text, headers from the first row's keys unless columns are given. */
export function renderTable(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  if (!rows.length) return '(none)';
  const cols = columns ?? Object.keys(rows[0] ?? {});
  const cells = rows.map((r) => cols.map((c) => cell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(cols.map((c) => c.toUpperCase())),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
  ].join('\n');
}

export function createOutput(json: boolean, out: NodeJS.WritableStream = process.stdout): Output {
  const err = process.stderr;
  return {
    json,
    table(rows, columns) {
      out.write(json ? `${JSON.stringify(rows)}\n` : `${renderTable(rows, columns)}\n`);
    },
    result(value, human) {
      out.write(json ? `${JSON.stringify(value)}\n` : `${human()}\n`);
    },
    info(line) {
      (json ? err : out).write(`${line}\n`);
    },
  };
}
