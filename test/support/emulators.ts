import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { type DynamoLocal, ensureRegistryTable, startDynamoLocal } from '../../local/emulators/dynamodb.js';
import { ensureBucket, type S3Local, startS3Local } from '../../local/emulators/s3.js';

/**
 * Test fixtures on the real emulators. Call in beforeAll / afterAll; each suite gets fresh
 * table and bucket names so suites never see each other's items.
 */
export interface TestDynamo {
  readonly local: DynamoLocal;
  readonly doc: DynamoDBDocumentClient;
  /** Creates a fresh, empty registry table and returns its name. */
  newTable(): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestDynamo(): Promise<TestDynamo> {
  const local = await startDynamoLocal();
  const doc = createDocumentClient(local.client);
  return {
    local,
    doc,
    async newTable() {
      const name = `t-${randomUUID().slice(0, 8)}`;
      await ensureRegistryTable(local.client, name);
      return name;
    },
    async stop() {
      doc.destroy();
      await local.stop();
    },
  };
}

export interface TestS3 {
  readonly local: S3Local;
  newBucket(): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestS3(): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-s3-'));
  const local = await startS3Local({ directory: dir });
  return {
    local,
    async newBucket() {
      const name = `b-${randomUUID().slice(0, 8)}`;
      await ensureBucket(local.client, name);
      return name;
    },
    async stop() {
      await local.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every item of a table, sorted by key, as one string: for "nothing was written" checks. */
export async function tableSnapshot(doc: DynamoDBDocumentClient, table: string): Promise<string> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey;
  } while (start);
  const id = (i: Record<string, unknown>) => `${String(i.PK)}|${String(i.SK)}`;
  return JSON.stringify(items.sort((a, b) => (id(a) < id(b) ? -1 : 1)));
}
