declare module 's3rver' {
  import type { EventEmitter } from 'node:events';
  import type { RequestListener } from 'node:http';
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }
  /** The parts of s3rver's FilesystemStore that local/emulators/s3-path-guard.ts wraps. */
  export interface S3rverStore {
    getBucketPath(bucket: string): string;
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    initiateUpload(bucket: string, key: string, uploadId: string, metadata: unknown): Promise<void>;
    putPart(bucket: string, uploadId: string, partNumber: string, content: unknown): Promise<unknown>;
    putObjectMultipart(bucket: string, uploadId: string, parts: unknown): Promise<unknown>;
    /** Writes an object (s3-durable-writes.ts replaces it). */
    putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
    putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  }
  /** s3rver's S3Object as its store receives it. */
  export interface S3rverObject {
    readonly bucket: string;
    readonly key: string;
    readonly content: Buffer | NodeJS.ReadableStream;
    readonly metadata: unknown;
  }
  export default class S3rver extends EventEmitter {
    constructor(options?: S3rverOptions);
    readonly store: S3rverStore;
    /** Koa's request listener: s3rver's routes, for an http.Server of one's own. */
    callback(): RequestListener;
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
