import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/contracts/env.js';
import { HANDLERS } from '../../lambdas/contracts/handlers.js';
import { handler } from '../../lambdas/handlers/approval-reminders.js';
import { REPO_ROOT } from '../../lib/paths.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { LocalLambdas } from '../../local/lambdas.js';
import { contractScheduleJobs, scheduledEvent } from '../../local/scheduler/scheduler.js';
import {
  type ApprovalWorld,
  approvalWorld,
  BASE_URL,
  decideThroughLink,
  getEvent,
  linkFor,
  requestFor,
} from '../adapters/approval/fixtures.js';
import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../support/emulators.js';

const HOUR = 3600 * 1000;

interface Eml {
  readonly file: string;
  readonly to: string;
  readonly subject: string;
  readonly link: string;
}

/** The messages the outbox mailer wrote: recipient, subject and the first approval link. */
function readOutbox(dir: string): Eml[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  return files.sort().map((file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
    return {
      file,
      to: header('To'),
      subject: header('Subject'),
      link: /https:\/\/\S+\/approvals\/[^\s<"]+/.exec(text)?.[0] ?? '',
    };
  });
}

/**
 * The scheduled approval-reminders handler, as the stack's EventBridge rule and `mlcycle up`
 * invoke it: its real dependencies built from exactly the environment the local runtime sets,
 * against DynamoDB Local, with the outbox mailer writing .eml files. Requests are created through
 * the request-approval handler with their creation time moved into the past, so that "now" (the
 * handler's real clock) falls where each case needs it.
 */
describe('approval-reminders handler (scheduled event, DynamoDB Local, .eml outbox)', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  let w: ApprovalWorld;
  let dir: string;
  let outbox: string;
  const saved = { ...process.env };

  /** A request created `hoursAgo` with a timeout (the fixture asks for a reminder 1 h before expiry). */
  async function requestCreated(hoursAgo: number, timeoutHours: number) {
    w.now = new Date(Date.now() - hoursAgo * HOUR);
    return requestFor(w, { timeoutSeconds: timeoutHours * 3600 });
  }

  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
    w = await approvalWorld(dynamo, s3);
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-reminders-'));
    outbox = join(dir, 'outbox');
    const keyFile = join(dir, 'signing.key');
    writeFileSync(keyFile, w.key.toString('utf8'));
    // What local/runtime.ts sets for the handlers (the file stands in for the secret).
    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.local.endpoint,
      [ENV.table]: w.table,
      [ENV.approvalBaseUrl]: BASE_URL,
      [ENV.signingSecretFile]: keyFile,
      [ENV.emailSender]: 'mlcycle@studio.test',
      [ENV.outboxDir]: outbox,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    delete process.env.AWS_PROFILE;
  });
  afterAll(async () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    await Promise.all([dynamo?.stop(), s3?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reminds, once, the approvers who have not decided on a due request, and no one on any other', async () => {
    // Due: expires in 30 minutes, inside its 1-hour reminder window; a@ has approved already.
    const due = await requestCreated(3.5, 4);
    await decideThroughLink(w, linkFor(due.links, 'a@studio.test'), 'approve', 'looks fine');
    // Not yet due: expires in 72 hours.
    const notYet = await requestCreated(0, 72);
    // Due, but its reminder was sent by an earlier run.
    const reminded = await requestCreated(3.5, 4);
    expect(await w.store.markReminded(reminded.requestId)).toBe(true);
    // Due by time, but complete: approved by quorum (2 of 3), and rejected.
    const approved = await requestCreated(3.5, 4);
    await decideThroughLink(w, linkFor(approved.links, 'a@studio.test'), 'approve', 'ok');
    await decideThroughLink(w, linkFor(approved.links, 'b@studio.test'), 'approve', 'ok');
    const rejected = await requestCreated(3.5, 4);
    await decideThroughLink(w, linkFor(rejected.links, 'c@studio.test'), 'reject', 'no');
    // Past its expiry, though the state machine has not marked it expired yet.
    const lapsed = await requestCreated(2, 1);
    expect((await w.store.require(approved.requestId)).status).toBe('approved');
    expect((await w.store.require(rejected.requestId)).status).toBe('rejected');
    expect((await w.store.listPending()).map((r) => r.requestId).sort()).toEqual(
      [due.requestId, notYet.requestId, reminded.requestId, lapsed.requestId].sort(),
    );
    expect(readOutbox(outbox)).toEqual([]);

    const event = scheduledEvent('mlcycle-approval-reminders', new Date());
    const out = await handler(event);
    expect(out.reminded).toEqual([due.requestId]);

    const mails = readOutbox(outbox);
    expect(mails.map((m) => m.to).sort()).toEqual(['b@studio.test', 'c@studio.test']);
    for (const m of mails) {
      expect(m.subject).toMatch(/^Reminder: Approval needed: churn /);
      // The approver's own link from the first email (same key, same expiry): it still opens the page.
      expect(m.link).toBe(linkFor(due.links, m.to).href);
      const page = await w.http(getEvent(new URL(m.link)));
      expect(page.statusCode).toBe(200);
    }
    expect((await w.store.require(due.requestId)).remindedAt).toEqual(expect.any(String));
    for (const other of [notYet, approved, rejected, lapsed]) {
      expect((await w.store.require(other.requestId)).remindedAt, other.requestId).toBeUndefined();
    }

    // The next run (15 minutes later on AWS) finds nothing more to send.
    const again = await handler(scheduledEvent('mlcycle-approval-reminders', new Date()));
    expect(again.reminded).toEqual([]);
    expect(readOutbox(outbox)).toHaveLength(2);
  });

  it('runs on the local scheduler as on EventBridge: the contract’s schedule, the same handler file and event', async () => {
    const lines: string[] = [];
    const lambdas = new LocalLambdas(REPO_ROOT);
    const jobs = contractScheduleJobs(
      'mlcycle',
      (name, event) => lambdas.invoke(name, event),
      (line) => lines.push(line),
    );
    expect(jobs.map((j) => [j.name, j.expression])).toEqual([
      ['approval-reminders', HANDLERS.approvalReminders.schedule],
      ['approval-reconciler', HANDLERS.approvalReconciler.schedule],
      ['cleanup', HANDLERS.cleanup.schedule],
    ]);
    const job = jobs.find((j) => j.name === 'approval-reminders');
    if (!job) throw new Error('no approval-reminders job');
    const before = readOutbox(outbox).length;

    const due = await requestCreated(3.5, 4);
    await job.run();
    const sent = readOutbox(outbox).slice(before);
    expect(sent.map((m) => m.to).sort()).toEqual(['a@studio.test', 'b@studio.test', 'c@studio.test']);
    for (const m of sent) expect(m.link).toBe(linkFor(due.links, m.to).href);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^approval-reminders: /);
    expect(JSON.parse(lines[0]?.replace(/^approval-reminders: /, '') ?? '')).toMatchObject({
      reminded: [due.requestId],
    });

    // Nothing due: the job sends nothing and logs nothing.
    await job.run();
    expect(readOutbox(outbox).length).toBe(before + 3);
    expect(lines).toHaveLength(1);
  });

  it('refuses an event that is not a scheduled event, naming the field', async () => {
    await expect(handler({ source: 'aws.events' })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/detail-type/),
    });
  });
});
