import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { DataError } from '../../domain/errors.js';

/** How a worker thread makes its own S3 client: what the injected client was configured with. */
export interface S3ClientRecipe {
  readonly region?: string;
  /** Set when the client had an explicit endpoint (otherwise AWS_ENDPOINT_URL_S3 or AWS's). */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

/**
 * An uncompressed data file that parts can be read from independently, described as plain data
 * so a worker thread can open its own ranges: a local file, or one version of an S3 object
 * (reads are conditional on its ETag, so a part never mixes two uploads).
 */
export type RangeSource =
  | { readonly kind: 'file'; readonly path: string; readonly size: number }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      readonly key: string;
      readonly etag: string;
      readonly size: number;
      readonly client: S3ClientRecipe;
      /**
       * Bytes per GET. A single S3 connection delivers about 100 MB/s, less than a worker
       * profiles, so a reader keeps two ranges of this size in flight (AWS's advice for
       * throughput: parallel byte-range fetches of 8–16 MB).
       * @default 8 MB
       */
      readonly rangeBytes?: number;
    };

/** The recipe of an injected client: its resolved region, endpoint and credentials. */
export async function s3ClientRecipe(client: S3Client): Promise<S3ClientRecipe> {
  const config = client.config;
  const endpoint = config.endpoint ? await config.endpoint() : undefined;
  const credentials = await config.credentials();
  return {
    region: await config.region(),
    ...(endpoint
      ? {
          endpoint: `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}${endpoint.path ?? ''}`,
        }
      : {}),
    forcePathStyle: config.forcePathStyle ?? false,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
  };
}

const FILE_CHUNK = 1 << 20;

/** A file from `start` in chunks, read ahead into the other of two buffers while one is used. */
async function* fileChunks(path: string, start: number): AsyncIterable<Buffer> {
  const file = await open(path, 'r');
  const buffers = [Buffer.allocUnsafe(FILE_CHUNK), Buffer.allocUnsafe(FILE_CHUNK)];
  const read = (buffer: Buffer, at: number) =>
    file.read(buffer, 0, FILE_CHUNK, at).then(({ bytesRead }) => buffer.subarray(0, bytesRead));
  let at = start;
  let next = read(buffers[0] as Buffer, at);
  try {
    for (let i = 1; ; i++) {
      const chunk = await next;
      if (!chunk.length) return;
      at += chunk.length;
      next = read(buffers[i % 2] as Buffer, at);
      yield chunk;
    }
  } finally {
    await next.catch(() => undefined);
    await file.close();
  }
}

/** Past a part's end, S3 is read ahead this far too: the row under way there is usually short. */
const S3_OVERREAD = 1 << 20;

/** This thread's client, and the recipe (as JSON: each part's task brings its own copy) it was made from. */
let s3Client: { recipe: string; client: S3Client } | undefined;

/** Loaded on first use: a worker reading local files never pays for the SDK's start-up. */
const s3Sdk = async () => ({
  ...(await import('@aws-sdk/client-s3')),
  ...(await import('../s3-client.js')),
});

async function clientFor(recipe: S3ClientRecipe): Promise<S3Client> {
  const { createS3Client } = await s3Sdk();
  const key = JSON.stringify(recipe);
  if (s3Client?.recipe !== key) {
    s3Client = {
      recipe: key,
      client: createS3Client({
        ...(recipe.region ? { region: recipe.region } : {}),
        ...(recipe.endpoint ? { endpoint: recipe.endpoint } : {}),
        ...(recipe.forcePathStyle ? { forcePathStyle: true } : {}),
        ...(recipe.credentials ? { credentials: recipe.credentials } : {}),
      }),
    };
  }
  return s3Client.client;
}

const S3_RANGE = 8 << 20;

/** One GET of bytes [start, end) of the object version, whole, as chunks. */
async function getRange(
  source: Extract<RangeSource, { kind: 's3' }>,
  start: number,
  end: number,
  signal: AbortSignal,
): Promise<Buffer[]> {
  const { GetObjectCommand } = await s3Sdk();
  let body: Readable | undefined;
  try {
    const out = await (await clientFor(source.client)).send(
      new GetObjectCommand({
        Bucket: source.bucket,
        Key: source.key,
        Range: `bytes=${start}-${end - 1}`,
        IfMatch: `"${source.etag}"`,
      }),
      { abortSignal: signal },
    );
    body = out.Body as Readable;
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return chunks;
  } catch (err) {
    if ((err as Error).name === 'PreconditionFailed') {
      throw new DataError(
        `s3://${source.bucket}/${source.key} was replaced while it was being profiled; the upload that replaced it is profiled on its own`,
      );
    }
    throw err;
  } finally {
    body?.destroy();
  }
}

/**
 * The object from `start` in ranges of rangeBytes, two in flight while the reader is before
 * `expectedEnd` (past it, where a part only finishes its last row, one at a time), so reading
 * keeps up with profiling. Leaving early aborts what is in flight.
 */
async function* s3Chunks(
  source: Extract<RangeSource, { kind: 's3' }>,
  start: number,
  expectedEnd: number,
): AsyncIterable<Buffer> {
  const rangeBytes = source.rangeBytes ?? S3_RANGE;
  const abort = new AbortController();
  const queue: Promise<Buffer[]>[] = [];
  let next = start;
  // ranges up to here are read ahead; the last one stops there, so a part reads little past its end
  const ahead = Math.max(start + 1, expectedEnd + S3_OVERREAD);
  const fill = () => {
    while (queue.length < (next < ahead ? 2 : 1) && next < source.size) {
      const end = Math.min(source.size, next + rangeBytes, next < ahead ? ahead : Number.POSITIVE_INFINITY);
      const pending = getRange(source, next, end, abort.signal);
      pending.catch(() => undefined); // awaited in turn below; never an unhandled rejection
      queue.push(pending);
      next = end;
    }
  };
  try {
    fill();
    for (let range = queue.shift(); range; range = queue.shift()) {
      const chunks = await range;
      fill();
      yield* chunks;
    }
  } finally {
    abort.abort();
    await Promise.allSettled(queue);
  }
}

/**
 * The bytes of a source from `start` to its end, in chunks; a reader that has what it needs
 * stops early by leaving the loop. `expectedEnd` is where the reader will probably stop: S3 is
 * asked for up to there (plus a little) first, and only for the rest if the reader goes on.
 * A chunk is only good until the next is asked for (a file is read into two buffers in turn:
 * a new megabyte per chunk would be garbage for the collector); a reader that keeps one copies.
 */
export async function* readFrom(
  source: RangeSource,
  start: number,
  expectedEnd: number,
): AsyncIterable<Buffer> {
  if (start >= source.size) return;
  if (source.kind === 'file') {
    yield* fileChunks(source.path, start);
    return;
  }
  yield* s3Chunks(source, start, expectedEnd);
}
