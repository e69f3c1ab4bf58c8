import { createInterface } from 'node:readline';
import { PassThrough, pipeline, Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { DataError } from '../../domain/errors.js';
import { type S3Location, type S3Objects, s3Uri } from '../s3-objects.js';
import { dataChunks, formatOf } from './object-stream.js';

/**
 * The rows of a monitoring object as records by column name, streamed (bounded memory): CSV with
 * a header row (strings; a BOM, quotes and CRLF handled by csv-parse; a ragged row keeps the
 * fields it has) or JSON Lines (one object per line; a line that is no object is a DataError
 * naming its number). The format comes from the key, as for profiles (.csv, .jsonl, .ndjson,
 * optionally .gz).
 */
export async function* objectRows(
  objects: S3Objects,
  at: S3Location,
): AsyncGenerator<Readonly<Record<string, unknown>>> {
  const { format, gzip } = formatOf(at.key);
  const body = await objects.getStream(at);
  const chunks = Readable.from(dataChunks(body, gzip));
  // pipeline carries a read error to the consumer's loop, and stopping the loop early (a batch
  // with no variant column) tears the chain down without an unhandled 'premature close'
  const sink =
    format === 'csv'
      ? parse({ columns: true, bom: true, relax_column_count: true, skip_empty_lines: true })
      : new PassThrough();
  pipeline(chunks, sink, () => undefined);
  try {
    if (format === 'csv') {
      for await (const row of sink) yield row as Record<string, string>;
      return;
    }
    let line = 0;
    for await (const text of createInterface({ input: sink, crlfDelay: Number.POSITIVE_INFINITY })) {
      line++;
      if (!text.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      if (!value || typeof value !== 'object' || Array.isArray(value)) {
        throw new DataError(
          `${s3Uri(at.bucket, at.key)} line ${line} is not a JSON object; each line must be one`,
        );
      }
      yield value as Record<string, unknown>;
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    if ((err as { code?: string }).code?.startsWith('CSV_')) {
      throw new DataError(`${s3Uri(at.bucket, at.key)} is not valid CSV (${(err as Error).message})`);
    }
    if (/incorrect header|unexpected end|invalid|header check/i.test((err as Error).message)) {
      throw new DataError(`"${at.key}" ends in .gz but is not valid gzip (${(err as Error).message})`);
    }
    throw err;
  } finally {
    sink.destroy();
    body.destroy();
  }
}
