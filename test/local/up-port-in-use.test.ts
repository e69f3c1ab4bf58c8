import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorLines } from '../support/cli.js';
import { type CliProcess, dynamoJvmsOf, killLeftovers, spawnCli, waitUntil } from '../support/processes.js';

describe('mlcycle up on a busy port', () => {
  let dir: string;
  let busy: Server;
  let port: number;
  let up: CliProcess | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-busy-'));
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });
  afterEach(async () => {
    killLeftovers(dir, up);
    await new Promise((resolve) => busy.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('says so in one line, exits non-zero, and leaves no JVM, server or endpoints file behind', async () => {
    up = spawnCli(dir, ['up', '--port', String(port)]);
    const code = await up.exited;
    const { stdout, stderr } = up.output();
    const run = { code, stdout, stderr };
    expect(errorLines(run)).toEqual([
      `mlcycle: port ${port} is in use; stop what uses it or pass --port <free port>`,
    ]);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(code).toBe(2);
    // The process has exited, so s3rver and the other in-process servers went with it; the JVM
    // is a separate process and must have been stopped.
    await waitUntil(() => dynamoJvmsOf(join(dir, 'dynamodb')).length === 0, 20_000, 'no DynamoDB Local JVM');
    expect(existsSync(join(dir, 'endpoints.json'))).toBe(false);
  });
});
