import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBucket, type S3Local, startS3Local } from '../../local/emulators/s3.js';

const BUCKET = 'mlcycle-artifacts';

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** The status of a raw request: no client-side URL normalisation between the test and s3rver. */
function raw(endpoint: string, method: string, path: string, body = ''): Promise<number> {
  const { port } = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The HTTP status an SDK call ended with (200 when it succeeded). */
async function status(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (err) {
    return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  }
}

describe('local S3 (s3rver) keeps every key inside its folder', () => {
  // <root>/a/b/s3/<bucket>: four `..` from the bucket reach <root>, so every escape tried below
  // lands somewhere this test can see (and cleans up).
  let root: string;
  let s3Dir: string;
  let s3: S3Local;
  const events: S3EventRecord[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mlcycle-s3-keys-'));
    s3Dir = join(root, 'a', 'b', 's3');
    s3 = await startS3Local({ directory: s3Dir });
    await ensureBucket(s3.client, BUCKET);
    s3.onObjectEvent((r) => events.push(r));
  });
  afterAll(async () => {
    await s3?.stop();
    rmSync(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    events.length = 0;
  });
  // An escape one case made (before the fix) must not fail the next case too.
  afterEach(() => {
    for (const f of escaped()) rmSync(join(root, f));
  });

  /** Files the emulator wrote outside its bucket's folder. */
  const escaped = () =>
    filesUnder(root).filter(
      (f) => !f.startsWith(join('a', 'b', 's3', BUCKET) + sep) && !f.includes('planted'),
    );

  /** An object in s3rver's on-disk format, outside the bucket: what a traversal could read or delete. */
  function plant(name: string): string {
    const dir = join(root, 'a', 'b');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `planted-${name}._S3rver_object`);
    writeFileSync(file, `secret ${name}`);
    return file;
  }

  const put = (Key: string, Body = 'x') =>
    s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));

  it.each([
    '../escaped-1',
    '../../escaped-2',
    'datasets/../../../../escaped-3',
    '..',
    'a/./b',
    './escaped-4',
  ])('PutObject %j is refused with 400 and writes nothing outside the bucket', async (key) => {
    expect(await status(put(key))).toBe(400);
    expect(escaped()).toEqual([]);
    expect(events).toEqual([]);
  });

  it.each([
    `/${BUCKET}/..%2F..%2Fescaped-enc-1`,
    `/${BUCKET}/%2E%2E%2F%2E%2E%2Fescaped-enc-2`,
    `/${BUCKET}/%2e%2e/%2e%2e/escaped-enc-3`,
    `/${BUCKET}/../../escaped-enc-4`,
    `/${BUCKET}/datasets%2F..%2F..%2F..%2F..%2Fescaped-enc-5`,
    '/../escaped-bucket-1',
    '/%2E%2E/escaped-bucket-2',
    `/${BUCKET}%2F..%2F..%2Fescaped-bucket-3/x`,
  ])('a raw PUT to %s is refused with 400 and writes nothing outside the bucket', async (path) => {
    expect(await raw(s3.endpoint, 'PUT', path, 'y')).toBe(400);
    expect(escaped()).toEqual([]);
  });

  it('answers as S3 answers a bad argument: InvalidArgument, naming the key', async () => {
    const err = await put('../../escaped-5').catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'InvalidArgument' });
    expect((err as Error).message).toContain('"../../escaped-5"');
  });

  it('GetObject cannot read an object file outside the bucket', async () => {
    plant('read');
    const got = s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: '../../planted-read' }));
    expect(await status(got)).toBe(400);
    expect(await raw(s3.endpoint, 'GET', `/${BUCKET}/..%2F..%2Fplanted-read`)).toBe(400);
  });

  it('DeleteObject and DeleteObjects cannot delete a file outside the bucket', async () => {
    const file = plant('delete');
    const one = s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: '../../planted-delete' }));
    expect(await status(one)).toBe(400);
    const many = s3.client.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: '../../planted-delete' }] } }),
    );
    expect(await status(many)).toBe(400);
    expect(readFileSync(file, 'utf8')).toBe('secret delete');
  });

  it('CopyObject refuses a source or a destination outside the bucket', async () => {
    plant('copy');
    await put('datasets/ok.csv', 'ok');
    const fromOutside = s3.client.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'stolen', CopySource: `${BUCKET}/../../planted-copy` }),
    );
    expect(await status(fromOutside)).toBe(400);
    const toOutside = s3.client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: '../../escaped-copy',
        CopySource: `${BUCKET}/datasets/ok.csv`,
      }),
    );
    expect(await status(toOutside)).toBe(400);
    expect(escaped()).toEqual([]);
    expect(filesUnder(join(s3Dir, BUCKET)).some((f) => f.startsWith('stolen'))).toBe(false);
  });

  it('multipart uploads refuse a key, an upload id or a part number that leaves the bucket', async () => {
    const create = s3.client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: '../../escaped-mpu' }),
    );
    expect(await status(create)).toBe(400);
    const { UploadId } = await s3.client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'datasets/mpu.csv' }),
    );
    const badId = s3.client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'datasets/mpu.csv',
        UploadId: '../../../../escaped-id',
        PartNumber: 1,
        Body: 'p',
      }),
    );
    expect(await status(badId)).toBe(404);
    const badPart = raw(
      s3.endpoint,
      'PUT',
      `/${BUCKET}/datasets/mpu.csv?uploadId=${UploadId}&partNumber=..%2F..%2F..%2F..%2F..%2Fescaped-part`,
      'p',
    );
    expect(await badPart).toBe(400);
    expect(escaped()).toEqual([]);
  });

  const legitimate = [
    'datasets/churn/churn-synthetic-seed42.csv',
    'runs/churn/run-1/model.v1.2.json',
    'a..b/c..d',
    '.../x',
    'x/.hidden',
    'trailing-dot.',
    'monitoring/churn/batches/day 1 (copy).csv',
    'monitoring/churn/batches/été/数据-🙂.csv',
    'plus+sign=and&amp.csv',
  ];

  it.each(legitimate)('keeps legitimate key %j working: put, get, list, event, delete', async (key) => {
    await put(key, `body of ${key}`);
    const got = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await got.Body?.transformToString()).toBe(`body of ${key}`);
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: key }));
    expect(listed.Contents?.map((o) => o.Key)).toContain(key);
    expect(events.map((e) => decodeURIComponent(e.s3.object.key.replace(/\+/g, ' ')))).toEqual([key]);
    await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(escaped()).toEqual([]);
  });

  it('a legitimate multipart upload (lib-storage, two parts) and copy still work', async () => {
    const body = Buffer.alloc(6 * 1024 * 1024, 'm');
    await new Upload({
      client: s3.client,
      params: { Bucket: BUCKET, Key: 'datasets/big file.csv', Body: body },
      partSize: 5 * 1024 * 1024,
    }).done();
    await s3.client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'datasets/copy of big.csv',
        CopySource: encodeURI(`${BUCKET}/datasets/big file.csv`),
      }),
    );
    const got = await s3.client.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'datasets/copy of big.csv' }),
    );
    expect((await got.Body?.transformToByteArray())?.length).toBe(body.length);
  });
});
