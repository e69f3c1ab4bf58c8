import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalLinkIn, approveThroughLink, readOutbox } from '../../bin/cli/demo-approver.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import type { HandlerName } from '../../lambdas/contracts/handlers.js';
import { churnCsv } from '../../local/data/churn.js';
import { startAs, startTestStack, type TestStack } from '../support/local-stack.js';

/**
 * A TCP relay in front of DynamoDB Local that the test can switch off: while off, nothing
 * listens on its port (connections are refused) and the connections it carried are cut.
 */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async on(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async off(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/**
 * DynamoDB unavailable while Register runs (issue 9, point 6): the handler's call is refused
 * (ECONNREFUSED, after the SDK's own retries). It must surface as TransientError, which the
 * ASL's Register Retry matches, so the execution tries Register again and still deploys —
 * instead of failing a whole (GPU) training run for a blip.
 */
describe('a transient failure of DynamoDB during Register (embedded default)', () => {
  let t: TestStack;
  let relay: Relay;
  let endpointBefore: string | undefined;
  const registerAttempts: { ok: boolean; error?: string }[] = [];

  beforeAll(async () => {
    t = await startTestStack();
    const objects = new S3Objects(t.stack.s3.client);
    await objects.put(
      { bucket: t.stack.endpoints.bucket, key: 'datasets/churn/churn.csv' },
      churnCsv({ rows: 3000, seed: 11 }),
      'text/csv',
    );
    // Every handler's DynamoDB client (built at its cold start, from the environment the local
    // runtime sets) goes through the relay.
    const target = new URL(t.stack.endpoints.dynamodb);
    relay = new Relay({ host: target.hostname, port: Number(target.port) });
    await relay.on();
    endpointBefore = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${relay.port}`;

    // Register's first invocation runs with DynamoDB unreachable; the relay is back after it.
    const lambdas = t.stack.lambdas;
    const invoke = lambdas.invoke.bind(lambdas);
    lambdas.invoke = async (name: HandlerName, event: unknown) => {
      if (name !== 'register') return invoke(name, event);
      const first = registerAttempts.length === 0;
      if (first) await relay.off();
      try {
        const out = await invoke(name, event);
        registerAttempts.push({ ok: true });
        return out;
      } catch (err) {
        registerAttempts.push({ ok: false, error: (err as Error).name });
        throw err;
      } finally {
        if (first) await relay.on();
      }
    };
  });
  afterAll(async () => {
    if (endpointBefore === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    else process.env.AWS_ENDPOINT_URL_DYNAMODB = endpointBefore;
    await relay?.off();
    await t?.stop();
  });

  it('Register is retried on TransientError and the execution deploys', async () => {
    const executionArn = await startAs(t.stack, 'requestor@studio.test', {
      model: 'churn',
      stage: 'staging',
      reason: 'retrain',
    });

    // Approve through the emailed link, as the staging approver would.
    const deadline = Date.now() + 60_000;
    let link: string | undefined;
    while (!link && Date.now() < deadline && t.stack.engine.describe(executionArn).status === 'RUNNING') {
      await new Promise((r) => setTimeout(r, 100));
      link = readOutbox(t.stack.endpoints.outboxDir)
        .map((m) => approvalLinkIn(m.text))
        .find(Boolean);
    }
    if (link) await approveThroughLink(link, 'approve', 'fine', []);
    const result = await t.stack.engine.settled(executionArn);

    expect(registerAttempts).toEqual([{ ok: false, error: 'TransientError' }, { ok: true }]);
    const failed = result.events.filter((e) => e.type === 'TaskFailed');
    expect(failed).toEqual([
      expect.objectContaining({
        taskFailedEventDetails: {
          resource: 'Register',
          error: 'TransientError',
          cause: expect.stringContaining('ECONNREFUSED'),
        },
      }),
    ]);
    expect(result.error ?? '').toBe('');
    expect(result.status).toBe('SUCCEEDED');

    const store = new Registry(createDocumentClient(t.stack.dynamo.client), t.stack.endpoints.tableName);
    const [version, ...others] = await store.versions.listVersions('churn');
    expect(others).toEqual([]); // the failed attempt registered nothing
    expect(version?.status).toBe('ready');
    expect((await store.stages.getStage('churn', 'staging'))?.version).toBe(version?.version);

    // What clients are served: the new version, and no one's address.
    const res = await fetch(`${t.stack.endpoints.api}models/churn/staging`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ version: version?.version, action: 'promote' });
    expect(body).not.toContain('@');
  });
});
