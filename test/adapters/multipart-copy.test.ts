import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { COPY_OBJECT_LIMIT, copyObjectAnySize, partRanges } from '../../lambdas/adapters/multipart-copy.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const input = {
  Bucket: 'b',
  Key: 'downloads/churn/abc/model.tar.gz',
  CopySource: 'b/runs/churn/r1/model.tar.gz',
  MetadataDirective: 'REPLACE' as const,
  CacheControl: 'public, max-age=31536000, immutable',
  Metadata: { sha256: 'abc' },
};

describe('copies of any size (CopyObject stops at 5 GiB)', () => {
  it('part ranges tile the object exactly, within S3’s part bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 * 1024 * GiB }),
        fc.integer({ min: 1, max: 6 * GiB }),
        (size, part) => {
          const ranges = partRanges(size, part);
          expect(ranges[0]?.first).toBe(0);
          expect(ranges.at(-1)?.last).toBe(size - 1);
          expect(ranges.length).toBeLessThanOrEqual(10_000);
          ranges.forEach((r, i) => {
            if (i > 0) expect(r.first).toBe((ranges[i - 1]?.last ?? -2) + 1);
            if (i < ranges.length - 1) expect(r.last - r.first + 1).toBeGreaterThanOrEqual(5 * MiB);
            expect(r.last - r.first + 1).toBeLessThanOrEqual(5 * GiB);
          });
        },
      ),
    );
    expect(partRanges(12 * GiB)).toHaveLength(24);
    expect(() => partRanges(0)).toThrow('cannot copy 0 bytes in parts');
  });

  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());

  it('up to 5 GiB: one CopyObject', async () => {
    s3.on(CopyObjectCommand).resolves({});
    await copyObjectAnySize(new S3Client({}), input, COPY_OBJECT_LIMIT);
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(1);
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });

  it('above 5 GiB: part copies of the whole range, completed in order, with the served headers', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCopyCommand).callsFake(async (i: { PartNumber: number }) => ({
      CopyPartResult: { ETag: `"e${i.PartNumber}"` },
    }));
    s3.on(CompleteMultipartUploadCommand).resolves({});
    const size = 6 * GiB + 123;
    await copyObjectAnySize(new S3Client({}), input, size);
    const create = s3.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input;
    expect(create).toEqual({
      Bucket: 'b',
      Key: input.Key,
      CacheControl: input.CacheControl,
      Metadata: { sha256: 'abc' },
    });
    const parts = s3.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input);
    expect(parts).toHaveLength(13);
    expect(parts.map((p) => p.CopySource)).toEqual(Array(13).fill(input.CopySource));
    expect(parts.find((p) => p.PartNumber === 13)?.CopySourceRange).toBe(
      `bytes=${12 * 512 * MiB}-${size - 1}`,
    );
    const done = s3.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input;
    expect(done?.MultipartUpload?.Parts?.map((p) => `${p.PartNumber}:${p.ETag}`)).toEqual(
      Array.from({ length: 13 }, (_, i) => `${i + 1}:"e${i + 1}"`),
    );
  });

  it('a failed part aborts the upload (no invisible parts left to bill) and the error surfaces', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u2' });
    s3.on(UploadPartCopyCommand).callsFake(async (i: { PartNumber: number }) => {
      if (i.PartNumber === 3) throw new Error('SlowDown');
      return { CopyPartResult: { ETag: `"e${i.PartNumber}"` } };
    });
    s3.on(AbortMultipartUploadCommand).resolves({});
    await expect(copyObjectAnySize(new S3Client({}), input, 6 * GiB)).rejects.toThrow('SlowDown');
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]?.args[0].input).toEqual({
      Bucket: 'b',
      Key: input.Key,
      UploadId: 'u2',
    });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });
});
