import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** CSV text of rows over columns (no generated value needs quoting: no commas, quotes or newlines). */
export function tableCsv<Row extends object>(rows: Iterable<Row>, columns: readonly string[]): string {
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(csvLine(row, columns));
  return `${lines.join('\n')}\n`;
}

export function csvLine(row: object, columns: readonly string[]): string {
  const values = row as Record<string, unknown>;
  return columns
    .map((c) => (values[c] === null || values[c] === undefined ? '' : String(values[c])))
    .join(',');
}

/** Streams a table to a file in 64 KiB chunks, honouring back-pressure. */
export async function writeTableCsv<Row extends object>(
  path: string,
  rows: Iterable<Row>,
  columns: readonly string[],
): Promise<void> {
  const stream = createWriteStream(path);
  let buffer = `${columns.join(',')}\n`;
  for (const row of rows) {
    buffer += `${csvLine(row, columns)}\n`;
    if (buffer.length > 1 << 16) {
      if (!stream.write(buffer)) await once(stream, 'drain');
      buffer = '';
    }
  }
  stream.end(buffer);
  await once(stream, 'finish');
}
