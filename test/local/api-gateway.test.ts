import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerName } from '../../lambdas/contracts/handlers.js';
import { startLocalApi } from '../../local/api-gateway.js';

const MB = 1024 * 1024;

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

interface RawAnswer {
  /** The response as received (status line, headers, body). */
  readonly response: string;
  /** Body bytes the client had handed to the socket when the answer arrived. */
  readonly bytesSentBeforeAnswer: number;
}

/** Whether `response` holds a whole HTTP response (headers and Content-Length bytes of body). */
function complete(response: string): boolean {
  const end = response.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(response.slice(0, end))?.[1];
  return length !== undefined && response.length - end - 4 >= Number(length);
}

/**
 * POSTs `total` bytes over a raw socket, as fast as the server reads them (waiting for drain),
 * and stops writing as soon as any answer arrives. A server that buffers the whole body lets all
 * of it through before answering; one that enforces the limit answers after about `limit`.
 */
function rawPost(url: string, path: string, total: number, chunked: boolean): Promise<RawAnswer> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let response = '';
    let sent = 0;
    let sentBeforeAnswer: number | undefined;
    const chunk = Buffer.alloc(256 * 1024, 'a');
    const frame = (b: Buffer) =>
      chunked ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]) : b;
    const pump = () => {
      while (sentBeforeAnswer === undefined && sent < total) {
        sent += chunk.length;
        if (!socket.write(frame(chunk))) return void socket.once('drain', pump);
      }
      if (sent >= total && sentBeforeAnswer === undefined && chunked) socket.write('0\r\n\r\n');
    };
    socket.on('connect', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n${
          chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${total}`
        }\r\n\r\n`,
      );
      pump();
    });
    socket.on('data', (d: Buffer) => {
      sentBeforeAnswer ??= sent;
      response += d.toString('latin1');
      if (complete(response)) socket.destroy();
    });
    // Writing into a connection the server has closed fails; what it answered is what counts.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (sentBeforeAnswer === undefined) reject(new Error(`closed without an answer after ${sent} bytes`));
      else resolve({ response, bytesSentBeforeAnswer: sentBeforeAnswer });
    });
  });
}

describe('local HTTP API (API Gateway stand-in)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('answers 413 to a body over 10 MB (Content-Length) without reading it or calling the handler', async () => {
    const fake = fakeLambdas(() => ({ statusCode: 200, body: 'ok' }));
    const api = await startLocalApi(fake.lambdas);
    close = api.close;
    const answer = await rawPost(api.url, '/approvals/apr-1', 200 * MB, false);
    expect(answer.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.response).toContain('{"message":"Request Entity Too Large"}');
    // Answered long before the client could push 200 MB (socket buffers hold a few MB at most).
    expect(answer.bytesSentBeforeAnswer).toBeLessThan(50 * MB);
    expect(fake.invoked).toEqual([]);
  });

  it('answers 413 to a chunked body once it passes 10 MB, having stopped reading it', async () => {
    const fake = fakeLambdas(() => ({ statusCode: 200, body: 'ok' }));
    const api = await startLocalApi(fake.lambdas);
    close = api.close;
    const answer = await rawPost(api.url, '/approvals/apr-1', 200 * MB, true);
    expect(answer.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.bytesSentBeforeAnswer).toBeGreaterThan(10 * MB);
    expect(answer.bytesSentBeforeAnswer).toBeLessThan(50 * MB);
    expect(fake.invoked).toEqual([]);
  });

  it('passes a body of exactly 10 MB to the handler whole', async () => {
    const fake = fakeLambdas(() => ({ statusCode: 200, body: 'ok' }));
    const api = await startLocalApi(fake.lambdas);
    close = api.close;
    const res = await fetch(`${api.url}approvals/apr-1`, {
      method: 'POST',
      body: Buffer.alloc(10 * MB, 'b'),
    });
    expect(res.status).toBe(200);
    expect(fake.invoked).toEqual([{ name: 'approvalHttp', bodyBytes: 10 * MB }]);
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
