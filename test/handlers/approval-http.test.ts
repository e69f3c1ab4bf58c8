import { beforeAll, describe, expect, it } from 'vitest';
import { approvalOutcomeSchema } from '../../lambdas/contracts/pipeline.js';
import { signLink } from '../../lambdas/domain/approval/signing.js';
import {
  APPROVERS,
  type ApprovalWorld,
  decideThroughLink,
  getEvent,
  hiddenFields,
  idOf,
  linkFor,
  postEvent,
  REQUESTOR,
  requestFor,
  T0,
  useApprovalWorld,
} from '../adapters/approval/fixtures.js';

/** Plain, self-contained HTML: no scripts, no external stylesheets, images or fonts. */
function expectPlainPage(body: string | undefined) {
  const html = body ?? '';
  expect(html).toMatch(/^<!doctype html>/);
  expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
  expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
}

/** The page's visible text (no tags, style or entities). */
const text = (html: string | undefined) =>
  (html ?? '')
    .replace(/<style>[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

describe('approval-http handler (DynamoDB Local, s3rver, a recording Step Functions fake)', () => {
  const suite = useApprovalWorld();
  let w: ApprovalWorld;

  beforeAll(async () => {
    w = suite().world;
  });

  it('emails each approver but the requestor a link of their own, under 300 characters, with no task token', async () => {
    const { links } = await requestFor(w, { approvers: [...APPROVERS, REQUESTOR], quorum: 2 });
    expect([...links.keys()]).toEqual([...APPROVERS]);
    for (const url of links.values()) {
      expect(url.href.length).toBeLessThan(300);
      expect(url.href).not.toContain('token-');
      expect(url.searchParams.get('t')).toMatch(/^\d\.[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    }
    expect(new Set([...links.values()].map((u) => u.href)).size).toBe(3);
  });

  it('200: GET renders the decision page — model, version, stage, requestor, gates, form with anti-forgery value', async () => {
    const { links, version } = await requestFor(w);
    const res = await w.http(getEvent(linkFor(links, 'a@studio.test')));
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers?.['cache-control']).toBe('no-store');
    expectPlainPage(res.body);
    const page = text(res.body);
    for (const s of [
      'churn',
      version,
      'production',
      REQUESTOR,
      'better recall on new players',
      'auc',
      '0.8123',
      '0.7000',
      'pass',
      'you are a@studio.test',
      'needs 2 of 3',
    ]) {
      expect(page).toContain(s);
    }
    expect(res.body).toMatch(/<form method="post"/);
    expect(Object.keys(hiddenFields(res.body ?? ''))).toEqual(['t', 'csrf']);
    expect(res.body).not.toContain('token-');
  });

  it('200: HEAD answers like GET with no body', async () => {
    const { links } = await requestFor(w);
    const res = await w.http(getEvent(linkFor(links, 'b@studio.test'), 'HEAD'));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
  });

  it('403: no token, a tampered token (each part), a token of another request or for the requestor', async () => {
    const { links, requestId } = await requestFor(w, { approvers: [...APPROVERS, REQUESTOR] });
    const other = await requestFor(w);
    const good = linkFor(links, 'a@studio.test').searchParams.get('t') ?? '';
    const [index, expiry, mac = ''] = good.split('.');
    const flip = (s: string) => (s === 'A' ? 'B' : 'A');
    const tampered = [
      `1.${expiry}.${mac}`,
      `${index}.${(Number.parseInt(expiry ?? '', 36) + 3600).toString(36)}.${mac}`,
      `${index}.${expiry}.${flip(mac[0] ?? '')}${mac.slice(1)}`,
      `${index}.${expiry}.${mac.slice(0, -1)}${flip(mac.at(-1) ?? '')}`,
      `${index}.${expiry}`,
      'garbage',
      linkFor(other.links, 'a@studio.test').searchParams.get('t') ?? '',
    ];
    const unsigned = await w.http(getEvent({ id: requestId }));
    expect(unsigned.statusCode).toBe(403);
    expect(text(unsigned.body)).toContain('carries no signature');
    expectPlainPage(unsigned.body);
    for (const t of tampered) {
      const res = await w.http(getEvent({ id: requestId, t }));
      expect(res.statusCode, t).toBe(403);
      expect(text(res.body)).toContain('altered or is not a link mlcycle sent');
      expectPlainPage(res.body);
    }
    // A genuine signature for the requestor (listed as an approver) still may not decide.
    const request = await w.store.require(requestId);
    const selfToken = signLink(
      w.key,
      { requestId, approver: REQUESTOR, expiresAt: Math.floor(Date.parse(request.expiresAt) / 1000) },
      request.approvers.indexOf(REQUESTOR),
    );
    const self = await w.http(getEvent({ id: requestId, t: selfToken }));
    expect(self.statusCode).toBe(403);
    expect(text(self.body)).toContain('asked for this promotion');
  });

  it('404: an unknown request, even with a well-formed token', async () => {
    const { links } = await requestFor(w);
    const t = linkFor(links, 'a@studio.test').searchParams.get('t') ?? '';
    const res = await w.http(getEvent({ id: 'apr-doesNotExist00000000', t }));
    expect(res.statusCode).toBe(404);
    expect(text(res.body)).toContain('There is no approval request "apr-doesNotExist00000000"');
    expectPlainPage(res.body);
  });

  it('410: after the expiry, GET and POST say the request has expired, and nothing is recorded', async () => {
    const { links, requestId } = await requestFor(w, { timeoutSeconds: 3600 });
    const link = linkFor(links, 'a@studio.test');
    const page = await w.http(getEvent(link));
    expect(page.statusCode).toBe(200);
    try {
      w.now = new Date(T0.getTime() + 3600 * 1000);
      const res = await w.http(getEvent(link));
      expect(res.statusCode).toBe(410);
      expect(text(res.body)).toContain('This request has expired');
      expectPlainPage(res.body);
      const post = await w.http(
        postEvent(requestId, { ...hiddenFields(page.body ?? ''), decision: 'approve', comment: 'late' }),
      );
      expect(post.statusCode).toBe(410);
      expect(await w.store.decisions(requestId)).toEqual([]);
    } finally {
      w.now = T0;
    }
  });

  it('403: a POST without the anti-forgery value, with a forged one, or with another approver’s — nothing recorded', async () => {
    const { links, requestId } = await requestFor(w);
    const a = linkFor(links, 'a@studio.test');
    const b = linkFor(links, 'b@studio.test');
    const pageA = hiddenFields((await w.http(getEvent(a))).body ?? '');
    const pageB = hiddenFields((await w.http(getEvent(b))).body ?? '');
    const csrf = pageA.csrf ?? '';
    const forged = `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`;
    const calls = w.sfn.calls.length;
    const attempts: Record<string, string>[] = [
      { t: pageA.t ?? '' },
      { t: pageA.t ?? '', csrf: '' },
      { t: pageA.t ?? '', csrf: forged },
      { t: pageA.t ?? '', csrf: pageB.csrf ?? '' },
    ];
    for (const fields of attempts) {
      const res = await w.http(postEvent(requestId, { ...fields, decision: 'approve', comment: 'x' }));
      expect(res.statusCode).toBe(403);
      expect(text(res.body)).toContain('Nothing was recorded');
      expectPlainPage(res.body);
    }
    // Posting without the link's token is refused as unsigned.
    const noLink = await w.http(postEvent(requestId, { csrf, decision: 'approve' }));
    expect(noLink.statusCode).toBe(403);
    expect(await w.store.decisions(requestId)).toEqual([]);
    expect(w.sfn.calls.length).toBe(calls);
  });

  it('POST records the decision; 409 then says what was decided; quorum sends SendTaskSuccess once', async () => {
    const { links, requestId } = await requestFor(w);
    const calls = w.sfn.calls.length;
    const first = await decideThroughLink(w, linkFor(links, 'a@studio.test'), 'approve', 'gates pass');
    expect(first.statusCode).toBe(200);
    expect(text(first.body)).toContain('Recorded: 1 of 2 approvals');
    expectPlainPage(first.body);
    expect(await w.store.decisions(requestId)).toMatchObject([
      { approver: 'a@studio.test', decision: 'approve', comment: 'gates pass', via: 'link' },
    ]);
    expect(w.sfn.calls.length).toBe(calls);

    const again = await w.http(getEvent(linkFor(links, 'a@studio.test')));
    expect(again.statusCode).toBe(409);
    expect(text(again.body)).toContain('You chose to approve');
    expect(text(again.body)).toContain('gates pass');
    expectPlainPage(again.body);

    const second = await decideThroughLink(
      w,
      linkFor(links, 'b@studio.test'),
      'approve',
      'features unchanged',
    );
    expect(second.statusCode).toBe(200);
    expect(text(second.body)).toContain('Approved: quorum reached');
    expect(w.sfn.calls.length).toBe(calls + 1);
    const success = w.sfn.successes.at(-1);
    const request = await w.store.require(requestId);
    expect(success?.taskToken).toBe(request.taskToken);
    const output = approvalOutcomeSchema.parse(JSON.parse(success?.output ?? '{}'));
    expect(output.approvedBy).toEqual([
      { approver: 'a@studio.test', comment: 'gates pass', decidedAt: T0.toISOString() },
      { approver: 'b@studio.test', comment: 'features unchanged', decidedAt: T0.toISOString() },
    ]);
    expect(request.status).toBe('approved');

    // The third approver arrives after completion: 409 that says how it ended; nothing sent.
    const late = await w.http(getEvent(linkFor(links, 'c@studio.test')));
    expect(late.statusCode).toBe(409);
    expect(text(late.body)).toContain('Already approved');
    expect(text(late.body)).toContain('approved by a@studio.test, b@studio.test');
    expect(w.sfn.calls.length).toBe(calls + 1);
  });

  it('409: a second POST by the same approver (a replayed form) is refused and sends nothing', async () => {
    const { links, requestId } = await requestFor(w);
    const link = linkFor(links, 'a@studio.test');
    const fields = hiddenFields((await w.http(getEvent(link))).body ?? '');
    const ok = await w.http(postEvent(requestId, { ...fields, decision: 'approve', comment: '' }));
    expect(ok.statusCode).toBe(200);
    const calls = w.sfn.calls.length;
    const replay = await w.http(
      postEvent(requestId, { ...fields, decision: 'reject', comment: 'changed my mind' }),
    );
    expect(replay.statusCode).toBe(409);
    expect(text(replay.body)).toContain('You chose to approve');
    expect(await w.store.decisions(requestId)).toHaveLength(1);
    expect(w.sfn.calls.length).toBe(calls);
  });

  it('rejection: needs a comment (400), then SendTaskFailure ApprovalRejected and the version is rejected with the comment', async () => {
    const { links, requestId, version } = await requestFor(w);
    const link = linkFor(links, 'c@studio.test');
    const calls = w.sfn.calls.length;
    const bare = await decideThroughLink(w, link, 'reject', '   ');
    expect(bare.statusCode).toBe(400);
    expect(text(bare.body)).toContain('a rejection needs a comment');
    expect(await w.store.decisions(requestId)).toEqual([]);

    const res = await decideThroughLink(w, link, 'reject', 'recall dropped for new players');
    expect(res.statusCode).toBe(200);
    expect(text(res.body)).toContain('Rejected: the promotion is stopped');
    expect(w.sfn.calls.length).toBe(calls + 1);
    const failure = w.sfn.failures.at(-1);
    expect(failure).toMatchObject({
      taskToken: (await w.store.require(requestId)).taskToken,
      error: 'ApprovalRejected',
      cause: 'rejected by c@studio.test: recall dropped for new players',
    });
    const record = await w.registry.versions.requireVersion('churn', version);
    expect(record.status).toBe('rejected');
    expect(record.statusHistory.at(-1)).toMatchObject({
      from: 'validating',
      to: 'rejected',
      actor: 'c@studio.test',
      reason: 'rejected for production by c@studio.test: recall dropped for new players',
    });
    const request = await w.store.require(requestId);
    expect(request).toMatchObject({
      status: 'rejected',
      outcomeNote: 'rejected by c@studio.test: recall dropped for new players',
    });

    const other = await w.http(getEvent(linkFor(links, 'a@studio.test')));
    expect(other.statusCode).toBe(409);
    expect(text(other.body)).toContain('Already rejected');
    expect(text(other.body)).toContain('recall dropped for new players');
  });

  it('405 for other methods', async () => {
    const { links } = await requestFor(w);
    const e = getEvent(linkFor(links, 'a@studio.test'));
    const res = await w.http({
      ...e,
      requestContext: { ...e.requestContext, http: { ...e.requestContext.http, method: 'DELETE' } },
    });
    expect(res.statusCode).toBe(405);
  });

  it('the form posts back to the same request path', async () => {
    const { links, requestId } = await requestFor(w);
    const link = linkFor(links, 'a@studio.test');
    const body = (await w.http(getEvent(link))).body ?? '';
    const action = /<form method="post" action="([^"]+)"/.exec(body)?.[1] ?? '';
    expect(new URL(action, link).pathname).toBe(`/approvals/${requestId}`);
    expect(idOf(link)).toBe(requestId);
  });
});
