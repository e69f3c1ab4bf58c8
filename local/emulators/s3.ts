import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import S3rver from 's3rver';
import { createS3Client } from '../../lambdas/adapters/aws-clients.js';
import { listen } from '../listen.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './local-aws.js';
import { awaitObjectWrites } from './s3-durable-writes.js';
import { guardStorePaths } from './s3-path-guard.js';

export interface S3Local {
  readonly endpoint: string;
  readonly client: S3Client;
  /** Registers a listener for object events, shaped as AWS delivers them to Lambda. */
  onObjectEvent(listener: (record: S3EventRecord) => void): void;
  stop(): Promise<void>;
}

export interface S3LocalOptions {
  readonly directory: string;
  /** @default a free port */
  readonly port?: number;
}

/**
 * s3rver in-process. Its `event` emitter is how the embedded default delivers S3 event
 * notifications; keys are URL-encoded here as AWS encodes them in event records, so the
 * handlers decode them the same way in both worlds.
 */
export async function startS3Local(options: S3LocalOptions): Promise<S3Local> {
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    silent: true,
    directory: options.directory,
    allowMismatchedSignatures: true,
    vhostBuckets: false,
  });
  guardStorePaths(server.store, options.directory);
  awaitObjectWrites(server.store);
  // Our own http.Server rather than s3rver's run(): run() leaves the server's `error` event
  // unhandled, so a busy port would kill the process instead of failing this call.
  const http = createServer(server.callback());
  const address = await listen(http, options.port ?? 0);
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = createS3Client({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const listeners: ((record: S3EventRecord) => void)[] = [];
  server.on('event', (event: { Records: S3EventRecord[] }) => {
    for (const record of event.Records) {
      const encoded: S3EventRecord = {
        ...record,
        s3: {
          ...record.s3,
          object: {
            ...record.s3.object,
            key: encodeURIComponent(record.s3.object.key).replace(/%2F/g, '/').replace(/%20/g, '+'),
          },
        },
      };
      for (const listener of listeners) listener(encoded);
    }
  });
  return {
    endpoint,
    client,
    onObjectEvent: (listener) => listeners.push(listener),
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}
