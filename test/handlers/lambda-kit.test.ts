import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { correlationIds, lambdaHandler } from '../../lambdas/handlers/kit/lambda.js';

const context = {
  functionName: 'mlcycle-local-gate',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:mlcycle-local-gate',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1234',
  getRemainingTimeInMillis: () => 1,
} as unknown as Context;

describe('the handler wrapper (middy + Powertools logger)', () => {
  let lines: Record<string, unknown>[];
  beforeEach(() => {
    lines = [];
    const write = process.stdout.write.bind(process.stdout);
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const s = String(chunk);
      if (s.startsWith('{')) lines.push(JSON.parse(s));
      else return write(chunk, ...(rest as []));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('puts the Lambda context and the correlation id in every line, and only for that invocation', async () => {
    const logger = new Logger({ serviceName: 'kit-test', logLevel: 'INFO' });
    const handler = lambdaHandler(logger, correlationIds.execution, async (event: { n: number }) => {
      logger.info('inside', { n: event.n });
      return event.n * 2;
    });
    const arn = 'arn:aws:states:eu-west-1:000000000000:execution:mlcycle-lifecycle:churn-1';
    expect(await handler({ n: 2, execution: { arn } } as { n: number }, context)).toBe(4);
    expect(await handler({ n: 3 }, context)).toBe(6);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      message: 'inside',
      n: 2,
      function_name: 'mlcycle-local-gate',
      function_request_id: 'req-1234',
      correlation_id: arn,
    });
    expect(lines[1]?.correlation_id).toBeUndefined();
  });

  it('keeps working without a context (tests call handlers with the event alone) and passes errors through', async () => {
    const logger = new Logger({ serviceName: 'kit-test', logLevel: 'ERROR' });
    class Named extends Error {
      override readonly name = 'ValidationError';
    }
    const failing = lambdaHandler(logger, correlationIds.http, async () => {
      throw new Named('bad input');
    });
    await expect(failing({})).rejects.toMatchObject({ name: 'ValidationError', message: 'bad input' });
    // No early TimeoutError from middy, whatever the context says is left.
    const slow = lambdaHandler(logger, correlationIds.http, async () => {
      await new Promise((r) => setTimeout(r, 30));
      return 'done';
    });
    expect(await slow({}, context)).toBe('done');
  });

  it('finds the correlation id of each kind of event, and none in a malformed one', () => {
    expect(correlationIds.execution({ executionArn: 'arn:x' })).toBe('arn:x');
    expect(correlationIds.execution({ detail: { executionArn: 'arn:y' } })).toBe('arn:y');
    expect(correlationIds.execution({ input: 1, execution: { arn: 'arn:z', name: 'z' } })).toBe('arn:z');
    expect(correlationIds.http({ requestContext: { requestId: 'abc=' } })).toBe('abc=');
    expect(
      correlationIds.s3({ Records: [{ s3: { object: { key: 'monitoring/churn/batches/b+1.csv' } } }] }),
    ).toBe('monitoring/churn/batches/b+1.csv');
    expect(correlationIds.scheduled({ id: 'ev-1', 'detail-type': 'Scheduled Event' })).toBe('ev-1');
    for (const bad of [undefined, null, 7, 'x', [], { execution: 5 }, { Records: 'no' }]) {
      expect(correlationIds.execution(bad)).toBeUndefined();
      expect(correlationIds.http(bad)).toBeUndefined();
      expect(correlationIds.s3(bad)).toBeUndefined();
      expect(correlationIds.scheduled(bad)).toBeUndefined();
    }
  });
});
