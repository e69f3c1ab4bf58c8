import { NotFoundError } from '../../domain/errors.js';
import { parseS3Uri, type S3Objects } from '../s3-objects.js';

/** How much of a sample object a smoke test reads: enough for a header and many rows. */
export const SMOKE_SAMPLE_BYTES = 256 * 1024;

/**
 * The first `maxBytes` of an object, cut after its last complete line (a dataset may be
 * gigabytes; a smoke test needs a few rows), or undefined when the object does not exist.
 */
export async function readHead(
  objects: S3Objects,
  uri: string,
  maxBytes = SMOKE_SAMPLE_BYTES,
): Promise<string | undefined> {
  const loc = parseS3Uri(uri);
  if (!(await objects.head(loc))) return undefined;
  let stream: Awaited<ReturnType<S3Objects['getStream']>>;
  try {
    stream = await objects.getStream(loc);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let complete = true;
  for await (const chunk of stream) {
    const buf = Buffer.from(chunk as Uint8Array);
    chunks.push(buf);
    size += buf.length;
    if (size >= maxBytes) {
      complete = false;
      break;
    }
  }
  stream.destroy();
  const bytes = Buffer.concat(chunks);
  if (complete) return bytes.toString('utf8');
  const cut = bytes.lastIndexOf(0x0a, maxBytes);
  return bytes.subarray(0, cut > 0 ? cut + 1 : 0).toString('utf8');
}
