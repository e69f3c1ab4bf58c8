import { beforeAll, describe, expect, it } from 'vitest';
import { sendReminders } from '../../../lambdas/services/approvals/remind.js';
import {
  APPROVERS,
  type ApprovalWorld,
  approvePayload,
  BASE_URL,
  decideThroughLink,
  linkFor,
  REQUESTOR,
  registerVersion,
  requestFor,
  T0,
  useApprovalWorld,
} from './fixtures.js';

describe('request-approval on DynamoDB Local', () => {
  const suite = useApprovalWorld();
  let w: ApprovalWorld;

  beforeAll(async () => {
    w = suite().world;
  });

  it('stores the task token server-side only, and a redelivered invocation keeps one request', async () => {
    const version = await registerVersion(w);
    const payload = approvePayload(version, { taskToken: 'AAAAKJHGF-very-secret-task-token' });
    const first = await w.requestApproval(payload);
    const again = await w.requestApproval(payload);
    expect(again.requestId).toBe(first.requestId);
    expect(first.emailed).toEqual([...APPROVERS]);
    const stored = await w.store.require(first.requestId);
    expect(stored.taskToken).toBe('AAAAKJHGF-very-secret-task-token');
    expect(stored.approvers).toEqual([...APPROVERS]);
    expect(await w.store.findForVersion('churn', version, 'production')).toMatchObject({
      requestId: first.requestId,
    });
    for (const m of w.mails) expect(`${m.text}${m.html ?? ''}`).not.toContain('very-secret');
  });

  it('refuses a quorum that the approvers other than the requestor cannot reach', async () => {
    const version = await registerVersion(w);
    await expect(
      w.requestApproval(approvePayload(version, { approvers: ['a@studio.test', REQUESTOR], quorum: 2 })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    expect(await w.store.findForVersion('churn', version, 'production')).toBeUndefined();
  });

  it('sends one reminder per request, inside the window, only to approvers who have not decided', async () => {
    const { requestId, links } = await requestFor(w, { timeoutSeconds: 4 * 3600 });
    await decideThroughLink(w, linkFor(links, 'a@studio.test'), 'approve', 'ok');
    const deps = {
      store: w.store,
      objects: w.objects,
      bucket: w.bucket,
      baseUrl: BASE_URL,
      key: async () => w.key,
      mailer: {
        sent: [] as { to: readonly string[]; subject: string; text: string }[],
        async send(m: { to: readonly string[]; subject: string; text: string }) {
          this.sent.push(m);
          return { id: 'x' };
        },
      },
    };
    // The payload asks for a reminder an hour before expiry.
    expect(await sendReminders(deps, new Date(T0.getTime() + 2 * 3600 * 1000))).not.toContain(requestId);
    const inWindow = new Date(T0.getTime() + 3.5 * 3600 * 1000);
    expect(await sendReminders(deps, inWindow)).toContain(requestId);
    const mine = deps.mailer.sent.filter((m) => m.text.includes(requestId));
    expect(mine.map((m) => m.to[0]).sort()).toEqual(['b@studio.test', 'c@studio.test']);
    for (const m of mine) {
      expect(m.subject).toMatch(/^Reminder: Approval needed/);
      const link = /https:\/\/\S+/.exec(m.text)?.[0] ?? '';
      expect(link).toBe(linkFor(links, m.to[0] ?? '').href);
    }
    expect(await sendReminders(deps, inWindow)).not.toContain(requestId);
    expect((await w.store.require(requestId)).remindedAt).toBe(T0.toISOString());
  });
});
