import { createReadStream, statSync } from 'node:fs';
import { Upload } from '@aws-sdk/lib-storage';
import { ValidationError } from '../../lambdas/domain/errors.js';
import type { CliContext } from './types.js';

/** The size of a local file to upload; a missing file, or a folder, is refused naming it. */
export function localFileSize(file: string): number {
  try {
    const stat = statSync(file);
    if (stat.isFile()) return stat.size;
  } catch {
    // Said below.
  }
  throw new ValidationError(`cannot read "${file}": not an existing file`);
}

/**
 * Streams a local file to a key of the artifacts bucket (multipart when it is large: datasets and
 * monitoring batches may be gigabytes) and returns its `s3://` URI. Keys come from
 * lambdas/contracts/s3-layout.ts.
 */
export async function uploadFile(ctx: Pick<CliContext, 's3' | 'bucket'>, key: string, file: string) {
  await new Upload({
    client: ctx.s3,
    params: { Bucket: ctx.bucket, Key: key, Body: createReadStream(file) },
  }).done();
  return `s3://${ctx.bucket}/${key}`;
}
