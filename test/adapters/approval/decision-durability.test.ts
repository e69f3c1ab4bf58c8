import { createServer } from 'node:net';
import { SFNClient, TaskDoesNotExist } from '@aws-sdk/client-sfn';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../../lambdas/adapters/approval/approval-store.js';
import { makeApprovalHttpHandler } from '../../../lambdas/handlers/approval-http.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/emulators/local-aws.js';
import type { TestDynamo } from '../../support/emulators.js';
import {
  type ApprovalWorld,
  decideThroughLink,
  getEvent,
  hiddenFields,
  linkFor,
  postEvent,
  RecordingSfn,
  requestFor,
  useApprovalWorld,
} from './fixtures.js';

/** The page's visible text. */
const text = (html: string | undefined) =>
  (html ?? '')
    .replace(/<style>[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** A port nothing listens on: Step Functions "stopped" (ECONNREFUSED), as when `up` is down. */
async function deadEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Step Functions that answers every callback with the given error (as AWS does once a wait is over). */
class RefusingSfn extends RecordingSfn {
  constructor(private readonly error: () => Error) {
    super();
  }
  override async send(command: Parameters<RecordingSfn['send']>[0]): Promise<unknown> {
    this.calls.push(command);
    throw this.error();
  }
}

describe('a decision that was taken is never lost (DynamoDB Local)', () => {
  const suite = useApprovalWorld();
  let w: ApprovalWorld;
  let dynamo: TestDynamo;

  beforeAll(() => {
    ({ world: w, dynamo } = suite());
  });

  function httpWith(sfn: ConstructorParameters<typeof Object>[0], store = w.store) {
    return makeApprovalHttpHandler(() => ({
      store,
      registry: w.registry,
      objects: w.objects,
      bucket: w.bucket,
      sfn: sfn as RecordingSfn,
      key: async () => w.key,
      clock: () => w.now,
      drift: w.driftDeps,
    }));
  }

  it('Step Functions unreachable at quorum: the POST answers 202 "recorded, being delivered" (no 5xx) and the request keeps approved with its signal pending', async () => {
    const { links, requestId } = await requestFor(w);
    const sfn = new SFNClient({
      region: LOCAL_REGION,
      endpoint: await deadEndpoint(),
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    const http = httpWith(sfn);
    const world = { ...w, http } as ApprovalWorld;
    const first = await decideThroughLink(world, linkFor(links, 'a@studio.test'), 'approve', 'ok');
    expect(first.statusCode).toBe(200);
    const quorum = await decideThroughLink(world, linkFor(links, 'b@studio.test'), 'approve', 'ok too');
    expect(quorum.statusCode).toBe(202);
    expect(text(quorum.body)).toContain('Approved: quorum reached');
    expect(text(quorum.body)).toContain('being delivered');
    const request = await w.store.require(requestId);
    expect(request).toMatchObject({ status: 'approved', signalStatus: 'pending' });
    expect(request.signal).toMatchObject({ kind: 'success' });
    sfn.destroy();

    // The page of the last approver says how it stands, and the request is no longer "pending".
    const late = await w.http(getEvent(linkFor(links, 'c@studio.test')));
    expect(late.statusCode).toBe(409);
    expect(text(late.body)).toContain('Already approved');
    expect((await w.store.listPending()).map((r) => r.requestId)).not.toContain(requestId);
  });

  it('the execution had already ended (TaskDoesNotExist): the answer says nothing deploys, and the request is closed, not approved', async () => {
    const { links, requestId } = await requestFor(w, { quorum: 1 });
    const sfn = new RefusingSfn(
      () => new TaskDoesNotExist({ message: 'Task does not exist anymore', $metadata: {} }),
    );
    const world = { ...w, http: httpWith(sfn) } as ApprovalWorld;
    const res = await decideThroughLink(world, linkFor(links, 'a@studio.test'), 'approve', 'fine');
    expect(res.statusCode).toBe(410);
    expect(text(res.body)).toContain('nothing will deploy');
    expect(sfn.calls).toHaveLength(1);
    expect(await w.store.require(requestId)).toMatchObject({
      status: 'closed',
      signalStatus: 'undeliverable',
    });
    const page = await w.http(getEvent(linkFor(links, 'b@studio.test')));
    expect(page.statusCode).toBe(410);
    expect(text(page.body)).toContain('nothing will deploy');
  });

  it('a rejection posted while the quorum-reaching approval is being recorded: 409 saying it was approved, and nothing stored', async () => {
    const { links, requestId } = await requestFor(w);
    await decideThroughLink(w, linkFor(links, 'a@studio.test'), 'approve', 'first');
    // c opened the page while the request was pending, and posts a rejection from it.
    const cForm = hiddenFields((await w.http(getEvent(linkFor(links, 'c@studio.test')))).body ?? '');
    const sfn = new RecordingSfn();
    let rejection: Promise<Awaited<ReturnType<ApprovalWorld['http']>>> | undefined;
    const rejecting = httpWith(sfn);
    // The moment b's decision is in the table, and before b's call has returned, c rejects.
    const doc = {
      send: async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
        const out = await dynamo.doc.send(command as never);
        const writesB =
          command instanceof TransactWriteCommand &&
          (command.input.TransactItems ?? []).some((i) => i.Put?.Item?.SK === 'DECISION#b@studio.test');
        if (writesB && !rejection) {
          rejection = rejecting(postEvent(requestId, { ...cForm, decision: 'reject', comment: 'not yet' }));
          await rejection;
        }
        return out;
      },
    } as unknown as DynamoDBDocumentClient;
    const approving = httpWith(sfn, new ApprovalStore(doc, w.table, () => w.now));
    const approved = await decideThroughLink(
      { ...w, http: approving } as ApprovalWorld,
      linkFor(links, 'b@studio.test'),
      'approve',
      'second',
    );
    const rejected = await rejection;
    expect(approved.statusCode).toBe(200);
    expect(text(approved.body)).toContain('Approved: quorum reached');
    expect(rejected?.statusCode).toBe(409);
    expect(text(rejected?.body)).toContain('Already approved');
    expect(text(rejected?.body)).toContain('approved by a@studio.test, b@studio.test');
    expect((await w.store.decisions(requestId)).map((d) => [d.approver, d.decision])).toEqual([
      ['a@studio.test', 'approve'],
      ['b@studio.test', 'approve'],
    ]);
    expect(sfn.successes).toHaveLength(1);
    expect(sfn.failures).toHaveLength(0);
    expect((await w.store.require(requestId)).status).toBe('approved');
  });
});
