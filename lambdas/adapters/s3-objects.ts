import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { digestStream } from './digest-stream.js';

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match?.[1]) throw new ValidationError(`"${uri}" is not an s3://bucket/key URI`);
  return { bucket: match[1], key: match[2] ?? '' };
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** Joins an s3:// prefix URI (ending in /) and a relative key. */
export function childUri(prefixUri: string, name: string): string {
  return prefixUri.endsWith('/') ? `${prefixUri}${name}` : `${prefixUri}/${name}`;
}

function isMissing(err: unknown): boolean {
  const name = (err as Error).name;
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket';
}

/** Thin helpers over an injected S3 client; NotFoundError names the missing URI. */
export class S3Objects {
  /** `s3`: the injected client (worker threads reading byte ranges copy its configuration). */
  constructor(readonly s3: S3Client) {}

  async getStream(loc: S3Location): Promise<Readable> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return out.Body as Readable;
    } catch (err) {
      if (isMissing(err)) {
        throw new NotFoundError(`${s3Uri(loc.bucket, loc.key)} does not exist`, undefined, { cause: err });
      }
      throw err;
    }
  }

  async getBytes(loc: S3Location): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.getStream(loc)) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }

  async getText(loc: S3Location): Promise<string> {
    return (await this.getBytes(loc)).toString('utf8');
  }

  async getJson<T = unknown>(loc: S3Location): Promise<T> {
    const text = await this.getText(loc);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ValidationError(`${s3Uri(loc.bucket, loc.key)} is not valid JSON`, undefined, { cause: err });
    }
  }

  async put(loc: S3Location, body: string | Buffer, contentType = 'application/octet-stream'): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: body, ContentType: contentType }),
    );
  }

  /**
   * Streams a local file to an object (one PUT: up to 5 GiB). `metadata`: user metadata
   * (x-amz-meta-*), e.g. the sha256 of an artifact.
   */
  async putFile(
    loc: S3Location,
    path: string,
    options: { contentType?: string; metadata?: Record<string, string> } = {},
  ): Promise<void> {
    const { size } = await stat(path);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: loc.bucket,
        Key: loc.key,
        Body: createReadStream(path),
        ContentLength: size,
        ContentType: options.contentType ?? 'application/octet-stream',
        ...(options.metadata ? { Metadata: options.metadata } : {}),
      }),
    );
  }

  /** Streams an object to a local file (parent folders created); its sha256 and size. */
  async getFile(loc: S3Location, path: string): Promise<{ sha256: string; bytes: number }> {
    const body = await this.getStream(loc);
    await mkdir(dirname(path), { recursive: true });
    const digest = digestStream();
    await pipeline(body, digest.stream, createWriteStream(path));
    return digest.result();
  }

  /** User metadata of an object (x-amz-meta-*, keys lower-case), or undefined when it does not exist. */
  async metadata(loc: S3Location): Promise<Record<string, string> | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return out.Metadata ?? {};
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async putJson(loc: S3Location, value: unknown): Promise<void> {
    await this.put(loc, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
  }

  /** Size and ETag, or undefined when the object does not exist. */
  async head(loc: S3Location): Promise<{ size: number; etag: string; lastModified?: Date } | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return {
        size: out.ContentLength ?? 0,
        etag: (out.ETag ?? '').replaceAll('"', ''),
        ...(out.LastModified ? { lastModified: out.LastModified } : {}),
      };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /** sha256 of an object, streamed (artifacts can be large). */
  async sha256(loc: S3Location): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of await this.getStream(loc)) hash.update(chunk as Uint8Array);
    return hash.digest('hex');
  }

  /** Deletes the keys, a thousand per request (S3's most); in a versioned bucket, their current versions. */
  async deleteAll(bucket: string, keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
  }

  /** Every object under a prefix (follows continuation tokens). */
  async list(bucket: string, prefix: string): Promise<{ key: string; size: number; lastModified: Date }[]> {
    const out: { key: string; size: number; lastModified: Date }[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }
}
