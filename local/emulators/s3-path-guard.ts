import { createRequire } from 'node:module';
import { resolve, sep } from 'node:path';
import type { S3rverStore } from 's3rver';

/** s3rver's own error class: what its error handler turns into an S3 XML error with a status. */
const S3Error = createRequire(import.meta.url)('s3rver/lib/models/error.js') as new (
  code: string,
  message: string,
  detail?: Record<string, string>,
) => Error;

/** Windows also splits paths on backslashes (s3rver escapes them there, but not `..` around them). */
const SEPARATORS = process.platform === 'win32' ? /[\\/]/ : /\//;

const isDotSegment = (segment: string) => segment === '.' || segment === '..';

/** Why s3rver must not store `key`, or undefined when it is fine. */
export function unsafeKeyReason(key: string): string | undefined {
  if (key.split(SEPARATORS).some(isDotSegment)) {
    return `Object key "${key}" has a "." or ".." path segment, which the local S3 emulator stores as a path and so refuses`;
  }
  return undefined;
}

function assertBucketName(bucket: string): void {
  if (!bucket || SEPARATORS.test(bucket) || isDotSegment(bucket)) {
    throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
  }
}

function assertKey(key: string): void {
  const reason = unsafeKeyReason(key);
  if (reason) throw new S3Error('InvalidArgument', reason, { ArgumentName: 'key', ArgumentValue: key });
}

/** s3rver's upload ids are 32 hex digits; anything else names no upload (and may name a path). */
function assertUploadId(uploadId: string): void {
  if (!/^[0-9a-f]{32}$/.test(String(uploadId))) {
    throw new S3Error(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: String(uploadId) },
    );
  }
}

function assertPartNumber(partNumber: string): void {
  const n = Number(partNumber);
  if (!/^\d+$/.test(String(partNumber)) || n < 1 || n > 10_000) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: String(partNumber),
    });
  }
}

/**
 * s3rver maps `<bucket>/<key>` to `<directory>/<bucket>/<key>` with path.join, so `..` in a key
 * (raw, or as `%2E%2E`/`%2F` the router decodes) — in a path, a copy source, a multi-object
 * delete, a multipart upload id or part number — reads, writes or deletes files outside its
 * folder. Every one of those goes through the few store methods wrapped here, so this is the one
 * place that refuses them: 400 as S3 answers a bad argument (404 for an upload id that cannot
 * exist), and a final check that the path stays inside the bucket's folder.
 */
export function guardStorePaths(store: S3rverStore, directory: string): void {
  const root = resolve(directory);
  const getBucketPath = store.getBucketPath.bind(store);
  const getResourcePath = store.getResourcePath.bind(store);
  const initiateUpload = store.initiateUpload.bind(store);
  const putPart = store.putPart.bind(store);
  const putObjectMultipart = store.putObjectMultipart.bind(store);

  store.getBucketPath = (bucket) => {
    assertBucketName(bucket);
    return getBucketPath(bucket);
  };
  store.getResourcePath = (bucket, key, resource) => {
    assertBucketName(bucket);
    if (key) assertKey(key);
    const path = getResourcePath(bucket, key, resource);
    if (!resolve(path).startsWith(resolve(root, bucket) + sep)) {
      throw new S3Error('InvalidArgument', `Object key "${key}" resolves outside its bucket`);
    }
    return path;
  };
  store.initiateUpload = (bucket, key, uploadId, metadata) => {
    assertKey(key);
    return initiateUpload(bucket, key, uploadId, metadata);
  };
  store.putPart = (bucket, uploadId, partNumber, content) => {
    assertUploadId(uploadId);
    assertPartNumber(partNumber);
    return putPart(bucket, uploadId, partNumber, content);
  };
  store.putObjectMultipart = (bucket, uploadId, parts) => {
    assertUploadId(uploadId);
    return putObjectMultipart(bucket, uploadId, parts);
  };
}
