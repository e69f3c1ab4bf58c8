import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalApi } from '../../local/api-gateway.js';
import { freePort } from '../../local/emulators/dynamodb.js';
import { startS3Local } from '../../local/emulators/s3.js';
import { PortInUseError } from '../../local/listen.js';
import { startLocalStack } from '../../local/runtime.js';
import { startSfnApiServer } from '../../local/stepfunctions/api-server.js';
import type { LocalStepFunctions } from '../../local/stepfunctions/engine.js';
import { testConfig } from '../support/local-stack.js';
import { dynamoJvmsOf, waitUntil } from '../support/processes.js';

// A port another program holds must fail the start (a rejection the stack can clean up after),
// not crash the process through an unhandled `error` event.
describe('local servers on a busy port', () => {
  let busy: Server;
  let port: number;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-listen-'));
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const refusal = () => ({
    port,
    message: `port ${port} is in use; stop what uses it or choose another port`,
  });

  it('the HTTP API rejects with PortInUseError', async () => {
    const started = startLocalApi({ invoke: async () => ({}) }, { port });
    await expect(started).rejects.toBeInstanceOf(PortInUseError);
    await expect(started).rejects.toMatchObject(refusal());
  });

  it('the Step Functions API rejects with PortInUseError', async () => {
    await expect(startSfnApiServer({} as LocalStepFunctions, port)).rejects.toMatchObject(refusal());
  });

  it('s3rver rejects with PortInUseError', async () => {
    await expect(startS3Local({ directory: join(dir, 's3'), port })).rejects.toMatchObject(refusal());
  });

  it('a stack whose S3 port is busy fails to start and stops the DynamoDB Local it had started', async () => {
    const stackDir = join(dir, 'stack');
    // A fixed DynamoDB port makes the JVM spawn at once, before S3's start fails.
    const ports = { s3: port, dynamodb: await freePort() };
    const started = startLocalStack({ config: testConfig(), dir: stackDir, ports });
    await expect(started).rejects.toMatchObject(refusal());
    await waitUntil(() => dynamoJvmsOf(join(stackDir, 'dynamodb')).length === 0, 20_000, 'no JVM left');
  });
});
