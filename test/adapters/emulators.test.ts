import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../support/emulators.js';

describe('local emulators', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
  });
  afterAll(async () => {
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  });

  it('DynamoDB Local stores and reads an item in the registry table shape', async () => {
    const table = await dynamo.newTable();
    await dynamo.doc.send(new PutCommand({ TableName: table, Item: { PK: 'MODEL#m', SK: 'META', n: 1 } }));
    const got = await dynamo.doc.send(
      new GetCommand({ TableName: table, Key: { PK: 'MODEL#m', SK: 'META' } }),
    );
    expect(got.Item).toEqual({ PK: 'MODEL#m', SK: 'META', n: 1 });
  });

  it('s3rver round-trips bytes and emits an encoded ObjectCreated event', async () => {
    const bucket = await s3.newBucket();
    const events: S3EventRecord[] = [];
    s3.local.onObjectEvent((r) => events.push(r));
    const body = 'a,b\n1,2\n';
    await s3.local.client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'monitoring/m/batches/day 1.csv', Body: body }),
    );
    const got = await s3.local.client.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'monitoring/m/batches/day 1.csv' }),
    );
    expect(await got.Body?.transformToString()).toBe(body);
    expect(events).toHaveLength(1);
    expect(events[0]?.eventName).toBe('ObjectCreated:Put');
    expect(events[0]?.s3.object.key).toBe('monitoring/m/batches/day+1.csv');
  });
});
