import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeZodError } from '../../../lambdas/contracts/zod-errors.js';

describe('describeZodError', () => {
  const schema = z.strictObject({ model: z.string(), nested: z.strictObject({ a: z.number() }).optional() });
  const describe_ = (input: unknown) => {
    const result = schema.safeParse(input, { reportInput: true });
    if (result.success) throw new Error('expected a failure');
    return describeZodError(result.error, 'job.yaml').split('\n');
  };

  it('names each unknown key by its own path and value, not its parent object', () => {
    expect(describe_({ model: 'churn', priority: 'high', retries: 3 })).toEqual([
      'job.yaml: priority: got "high": Unrecognized key: "priority"',
      'job.yaml: retries: got 3: Unrecognized key: "retries"',
    ]);
    expect(describe_({ model: 'churn', nested: { a: 1, b: [1] } })).toEqual([
      'job.yaml: nested.b: got [1]: Unrecognized key: "b"',
    ]);
  });

  it('other problems keep their key path and value', () => {
    expect(describe_({ model: 3 })).toEqual([
      'job.yaml: model: got 3: Invalid input: expected string, received number',
    ]);
  });
});
