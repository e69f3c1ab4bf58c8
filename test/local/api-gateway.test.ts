import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerName } from '../../lambdas/contracts/handlers.js';
import { startLocalApi } from '../../local/api-gateway.js';

/** A stand-in for the local Lambda service: records what reached a handler. */
function fakeLambdas(answer: (event: { body?: string }) => unknown) {
  const invoked: { name: HandlerName; bodyBytes: number }[] = [];
  return {
    invoked,
    lambdas: {
      async invoke(name: HandlerName, event: unknown) {
        const e = event as { body?: string };
        invoked.push({ name, bodyBytes: e.body ? Buffer.from(e.body, 'base64').length : 0 });
        return answer(e);
      },
    },
  };
}

describe('local HTTP API (API Gateway stand-in)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it("answers a handler's crash as API Gateway does, and logs the detail locally only", async () => {
    const fake = fakeLambdas(() => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:41234 (table mlcycle-registry)');
    });
    const logged: string[] = [];
    const api = await startLocalApi(fake.lambdas, { log: (line) => logged.push(line) });
    close = api.close;
    const res = await fetch(`${api.url}approvals/apr-1`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('{"message":"Internal Server Error"}');
    expect(logged.join('\n')).toContain('ECONNREFUSED 127.0.0.1:41234');
  });
});
