import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataError } from '../../domain/errors.js';
import type { DataFormat } from '../../domain/profile/profile-options.js';

/** The data format from the key: .csv, .jsonl/.ndjson, optionally .gz. */
export function formatOf(key: string): { format: DataFormat; gzip: boolean } {
  const lower = key.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const base = gzip ? lower.slice(0, -3) : lower;
  if (base.endsWith('.csv')) return { format: 'csv', gzip };
  if (base.endsWith('.jsonl') || base.endsWith('.ndjson')) return { format: 'jsonl', gzip };
  throw new DataError(
    `"${key}" has an unsupported extension; upload .csv, .jsonl or .ndjson (optionally .gz)`,
  );
}

/** Chunks of the (decompressed) object, for the one-pass profiler. */
export function dataChunks(body: Readable, gzip: boolean): AsyncIterable<Buffer> {
  return gzip ? body.pipe(createGunzip()) : body;
}
