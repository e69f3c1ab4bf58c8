import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3rverObject, S3rverStore } from 's3rver';

/**
 * s3rver's FilesystemStore answers a PUT before the object's file is written: it resolves when it
 * has handed the bytes to the write stream (`end(buffer)`, or the hashing transform's `finish`),
 * not when the stream has flushed them. A GET right after the PUT can then read an empty or
 * partial file (seen under load: a body of ''). This store method writes the object through a
 * pipeline that settles only once the file stream has finished, then records the metadata, as
 * the original does.
 */
export function awaitObjectWrites(store: S3rverStore): void {
  store.putObject = async (object: S3rverObject) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    const source = Buffer.isBuffer(object.content)
      ? Readable.from([object.content])
      : (object.content as NodeJS.ReadableStream);
    await pipeline(
      source,
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          md5.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      }),
      createWriteStream(path),
    );
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}
