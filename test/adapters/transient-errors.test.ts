import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, createS3Client } from '../../lambdas/adapters/aws-clients.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import {
  asTransientError,
  TRANSIENT_ERRORS_MIDDLEWARE,
  withTransientErrors,
} from '../../lambdas/adapters/transient-errors.js';
import { ENV } from '../../lambdas/contracts/env.js';
import { ERROR_NAMES } from '../../lambdas/contracts/errors.js';
import { NotFoundError, TransientError, ValidationError } from '../../lambdas/domain/errors.js';
import { keySourceFrom } from '../../lambdas/handlers/kit/signing-key-env.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

interface Canned {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** An HTTP endpoint answering every request with one canned AWS error, counting requests. */
class FakeAws {
  requests = 0;
  answer: Canned = { status: 200 };
  private readonly server: Server = createServer((req, res) => {
    this.requests++;
    req.resume();
    req.on('end', () => {
      res.writeHead(this.answer.status, this.answer.headers ?? {});
      res.end(this.answer.body ?? '');
    });
  });
  get endpoint() {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  start() {
    return new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
  }
  stop() {
    this.server.closeAllConnections();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

const dynamoError = (status: number, type: string, message = 'from the fake'): Canned => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.0' },
  body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }),
});

const s3Error = (status: number, code: string): Canned => ({
  status,
  headers: { 'content-type': 'application/xml' },
  body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>from the fake</Message><RequestId>r1</RequestId></Error>`,
});

/** The rejection of `p`, which must reject. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('retryable AWS SDK errors become TransientError (after the SDK retried them)', () => {
  const fake = new FakeAws();
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  afterEach(() => {
    fake.requests = 0;
  });

  const doc = () =>
    createDocumentClient(
      new DynamoDBClient({ endpoint: fake.endpoint, region, credentials, maxAttempts: 2 }),
    );
  const s3 = () => createS3Client({ endpoint: fake.endpoint, region, credentials, maxAttempts: 2 });
  const get = () => doc().send(new GetCommand({ TableName: 't', Key: { PK: 'a', SK: 'b' } }));

  it('a connection refused (DynamoDB unavailable) is TransientError, the socket error as cause', async () => {
    const port = await closedPort();
    const client = createDocumentClient(
      new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region, credentials, maxAttempts: 2 }),
    );
    const err = await rejection(client.send(new GetCommand({ TableName: 't', Key: { PK: 'a', SK: 'b' } })));
    expect(err).toBeInstanceOf(TransientError);
    expect(err.name).toBe(ERROR_NAMES.transient);
    expect(err.message).toMatch(/^DynamoDB GetItem failed, retryable: .*ECONNREFUSED/);
    expect((err.cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect((err as TransientError).details).toMatchObject({ operation: 'DynamoDB GetItem', attempts: 2 });

    const objects = new S3Objects(
      createS3Client({ endpoint: `http://127.0.0.1:${port}`, region, credentials, maxAttempts: 1 }),
    );
    const s3err = await rejection(objects.getText({ bucket: 'b', key: 'k' }));
    expect(s3err).toBeInstanceOf(TransientError);
    expect(s3err.message).toMatch(/^S3 GetObject failed, retryable/);
  });

  it.each([
    ['ThrottlingException', dynamoError(400, 'ThrottlingException', 'Rate of requests exceeds the allowed')],
    ['ProvisionedThroughputExceededException', dynamoError(400, 'ProvisionedThroughputExceededException')],
    ['a 500 InternalServerError', dynamoError(500, 'InternalServerError')],
    ['a 503 with no body', { status: 503 }],
  ])('%s is TransientError, once the SDK has retried it', async (_what, answer) => {
    fake.answer = answer;
    const err = await rejection(get());
    expect(err).toBeInstanceOf(TransientError);
    expect(err.cause).toBeInstanceOf(Error);
    expect(err.cause).not.toBeInstanceOf(TransientError);
    expect(fake.requests).toBe(2); // the SDK's own attempts came first
  });

  it.each([
    ['ConditionalCheckFailedException', dynamoError(400, 'ConditionalCheckFailedException')],
    ['ValidationException', dynamoError(400, 'ValidationException')],
    ['AccessDeniedException', dynamoError(400, 'AccessDeniedException')],
    ['ResourceNotFoundException', dynamoError(400, 'ResourceNotFoundException')],
  ])('%s stays what it is, tried once', async (name, answer) => {
    fake.answer = answer;
    const err = await rejection(
      doc().send(
        new PutCommand({
          TableName: 't',
          Item: { PK: 'a', SK: 'b' },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      ),
    );
    expect(err.name).toBe(name);
    expect(err).not.toBeInstanceOf(TransientError);
    expect(fake.requests).toBe(1);
  });

  it('S3: SlowDown and 500 are transient; NoSuchKey and AccessDenied stay what they are', async () => {
    const objects = new S3Objects(s3());
    const read = () => objects.getText({ bucket: 'b', key: 'k' });
    fake.answer = s3Error(503, 'SlowDown');
    expect(await rejection(read())).toBeInstanceOf(TransientError);
    fake.answer = s3Error(500, 'InternalError');
    expect(await rejection(read())).toBeInstanceOf(TransientError);
    fake.answer = s3Error(404, 'NoSuchKey');
    expect(await rejection(read())).toBeInstanceOf(NotFoundError); // S3Objects still sees NoSuchKey
    fake.answer = s3Error(403, 'AccessDenied');
    const denied = await rejection(s3().send(new GetObjectCommand({ Bucket: 'b', Key: 'k' })));
    expect(denied.name).toBe('AccessDenied');
    expect(denied).not.toBeInstanceOf(TransientError);
  });

  it('is added once, whichever factory wraps a client and how often', () => {
    const base = new DynamoDBClient({ region, credentials });
    createDocumentClient(base);
    createDocumentClient(base);
    withTransientErrors(base);
    const ours = base.middlewareStack.identify().filter((m) => m.startsWith(TRANSIENT_ERRORS_MIDDLEWARE));
    expect(ours).toEqual([`${TRANSIENT_ERRORS_MIDDLEWARE} - initialize`]);
  });

  it('clients the handlers build themselves have it too (Secrets Manager for the signing key)', () => {
    const source = keySourceFrom({ [ENV.signingSecretArn]: 'arn:aws:secretsmanager:eu-west-1:1:secret:k' });
    if (source.kind !== 'secret') throw new Error('expected the secret source');
    expect(source.client.middlewareStack.identify()).toContain(`${TRANSIENT_ERRORS_MIDDLEWARE} - initialize`);
  });
});

describe('asTransientError (the classification)', () => {
  const err = (name: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(`${name} happened`), { name, ...extra });

  it("follows the SDK's own: $retryable, throttling names and 429, socket codes, 5xx", () => {
    for (const e of [
      err('SomeModelledError', { $retryable: {} }),
      err('Whatever', { $retryable: { throttling: true } }),
      err('TooManyRequestsException'),
      err('Unknown', { $metadata: { httpStatusCode: 429 } }),
      err('Error', { code: 'ECONNRESET' }),
      err('Error', { code: 'ETIMEDOUT' }),
      err('TimeoutError'),
      err('Unknown', { $metadata: { httpStatusCode: 502 } }),
    ]) {
      expect(asTransientError(e), e.name).toBeInstanceOf(TransientError);
    }
  });

  it('leaves everything else as it is: client errors, aborts, our own errors, non-errors', () => {
    for (const e of [
      err('ConditionalCheckFailedException', { $metadata: { httpStatusCode: 400 } }),
      err('TransactionCanceledException', { $metadata: { httpStatusCode: 400 } }),
      err('NoSuchKey', { $metadata: { httpStatusCode: 404 } }),
      err('AbortError'),
      new ValidationError('bad input'),
      new TransientError('already'),
      'a string',
      undefined,
    ]) {
      expect(asTransientError(e)).toBe(e);
    }
  });
});
