import { DataError, NotFoundError } from '../../domain/errors.js';
import { SNIFF_BYTES } from '../../domain/profile/file-head.js';
import { checkDataHead } from '../../domain/profile/input-guard.js';
import type { Profile } from '../../domain/profile/profile.js';
import type { ProfileOptions } from '../../domain/profile/profile-options.js';
import { type S3Location, type S3Objects, s3Uri } from '../s3-objects.js';
import { dataChunks, formatOf } from './object-stream.js';
import { type ParallelOptions, profileSource, profileStream } from './parallel-profile.js';
import { type RangeSource, s3ClientRecipe } from './range-reader.js';

/**
 * The profile of one object of the bucket, its format taken from the key (.csv, .jsonl, .gz).
 * An uncompressed object is split into byte ranges that the worker threads (one per vCPU) read
 * with their own ranged GETs of this version, then merged; gzip cannot be split, so it is one
 * stream cut into blocks of rows for the workers. An object that ends in .gz but is not gzip is
 * a DataError.
 */
export async function profileObject(
  objects: S3Objects,
  at: S3Location,
  options: Omit<ProfileOptions, 'format'>,
  parallel: ParallelOptions = {},
  maxColumns = Number.POSITIVE_INFINITY,
): Promise<Profile> {
  const { format, gzip } = formatOf(at.key);
  checkDataHead(at.key, await readHead(objects, at, gzip), format, maxColumns);
  options = { ...options, maxColumns };
  if (!gzip) {
    const head = await objects.head(at);
    if (!head) throw new NotFoundError(`${s3Uri(at.bucket, at.key)} does not exist`);
    const source: RangeSource = {
      kind: 's3',
      bucket: at.bucket,
      key: at.key,
      etag: head.etag,
      size: head.size,
      client: await s3ClientRecipe(objects.s3),
    };
    return profileSource(source, { ...options, format }, parallel);
  }
  const body = await objects.getStream(at);
  try {
    return await profileStream(dataChunks(body, gzip), { ...options, format }, parallel);
  } catch (err) {
    if (/incorrect header|unexpected end|invalid|header check/i.test((err as Error).message)) {
      throw new DataError(`"${at.key}" ends in .gz but is not valid gzip (${(err as Error).message})`);
    }
    throw err;
  } finally {
    body.destroy();
  }
}

/**
 * The first megabyte of the (decompressed) object, for checkDataHead: read before anything is
 * profiled, so a binary or too wide file is refused with bounded memory.
 */
async function readHead(objects: S3Objects, at: S3Location, gzip: boolean): Promise<Buffer> {
  const body = await objects.getStream(at).catch((err: Error) => {
    if (err.name === 'NoSuchKey') throw new NotFoundError(`${s3Uri(at.bucket, at.key)} does not exist`);
    throw err;
  });
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of dataChunks(body, gzip)) {
      chunks.push(Buffer.from(chunk));
      n += chunk.length;
      if (n >= SNIFF_BYTES) break;
    }
  } catch (err) {
    if (gzip)
      throw new DataError(`"${at.key}" ends in .gz but is not valid gzip (${(err as Error).message})`);
    throw err;
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, SNIFF_BYTES);
}
