import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  type CopyObjectCommandInput,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { ArtifactValidationError } from '../domain/errors.js';

/** CopyObject copies at most 5 GiB; above it S3 wants a multipart upload of part copies. */
export const COPY_OBJECT_LIMIT = 5 * 1024 ** 3;
/** S3's bounds on a multipart upload: parts of 5 MiB–5 GiB (the last may be smaller), 10,000 parts. */
const MIN_PART = 5 * 1024 ** 2;
const MAX_PART = 5 * 1024 ** 3;
const MAX_PARTS = 10_000;
/** 512 MiB parts: a 5 TiB object (S3's largest) still fits in 10,000 parts. */
const DEFAULT_PART = 512 * 1024 ** 2;
/** Part copies in flight at once (each is a server-side copy: no bytes pass through the function). */
const CONCURRENCY = 4;

/** The inclusive byte ranges of a copy of `size` bytes in parts of `partSize`. */
export function partRanges(size: number, partSize = DEFAULT_PART): { first: number; last: number }[] {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`cannot copy ${size} bytes in parts`);
  const part = Math.max(Math.min(partSize, MAX_PART), MIN_PART, Math.ceil(size / MAX_PARTS));
  const ranges: { first: number; last: number }[] = [];
  for (let first = 0; first < size; first += part)
    ranges.push({ first, last: Math.min(first + part, size) - 1 });
  return ranges;
}

/**
 * A server-side copy of any size: CopyObject up to `limit` (5 GiB), above it a multipart upload
 * of UploadPartCopy ranges, completed in order, aborted on any failure so no invisible parts are
 * left to bill. `input` is CopyObject's (bucket, key, source, headers); `size` the source's.
 */
export async function copyObjectAnySize(
  s3: S3Client,
  input: CopyObjectCommandInput & { Bucket: string; Key: string; CopySource: string },
  size: number,
  options: { limit?: number; partSize?: number } = {},
): Promise<void> {
  if (size <= (options.limit ?? COPY_OBJECT_LIMIT)) {
    await s3.send(new CopyObjectCommand(input));
    return;
  }
  const { CopySource, MetadataDirective: _directive, ...headers } = input;
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand(headers));
  if (!UploadId) throw new ArtifactValidationError(`S3 gave no upload id for a copy to ${input.Key}`);
  const ranges = partRanges(size, options.partSize);
  const etags: string[] = new Array(ranges.length);
  try {
    for (let start = 0; start < ranges.length; start += CONCURRENCY) {
      await Promise.all(
        ranges.slice(start, start + CONCURRENCY).map(async (r, i) => {
          const PartNumber = start + i + 1;
          const out = await s3.send(
            new UploadPartCopyCommand({
              Bucket: input.Bucket,
              Key: input.Key,
              UploadId,
              PartNumber,
              CopySource,
              CopySourceRange: `bytes=${r.first}-${r.last}`,
            }),
          );
          const etag = out.CopyPartResult?.ETag;
          if (!etag)
            throw new ArtifactValidationError(`S3 gave no ETag for part ${PartNumber} of ${input.Key}`);
          etags[PartNumber - 1] = etag;
        }),
      );
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: input.Bucket,
        Key: input.Key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
  } catch (err) {
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: input.Bucket, Key: input.Key, UploadId }))
      .catch(() => undefined);
    throw err;
  }
}
