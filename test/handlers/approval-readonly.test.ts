import { beforeAll, describe, expect, it } from 'vitest';
import { driftLatestKey } from '../../lambdas/contracts/drift-summary.js';
import { signLink } from '../../lambdas/domain/approval/signing.js';
import {
  APPROVERS,
  type ApprovalWorld,
  decideThroughLink,
  getEvent,
  linkFor,
  REQUESTOR,
  requestFor,
  T0,
  useApprovalWorld,
} from '../adapters/approval/fixtures.js';

/**
 * Mail scanners and link previews open every link, repeatedly, with GET and HEAD. Whatever the
 * link and whatever state its request is in, opening it must write nothing to DynamoDB (a full
 * table scan is compared), nothing to S3, and send nothing to Step Functions.
 */
describe('GET and HEAD of approval links change nothing', () => {
  const suite = useApprovalWorld();
  let w: ApprovalWorld;
  const links: { label: string; url: URL | { id: string; t?: string; report?: string } }[] = [];
  const statuses = new Map<string, Set<number>>();

  beforeAll(async () => {
    w = suite().world;
    await w.objects.putJson(
      { bucket: w.bucket, key: driftLatestKey('churn') },
      {
        model: 'churn',
        batchKey: 'monitoring/churn/batches/b1.csv',
        checkedAt: T0.toISOString(),
        status: 'ok',
        overallSeverity: 'medium',
        driftedShare: 0.25,
        rows: 1000,
        features: [{ name: 'sessions', kind: 'numeric', method: 'psi', score: 0.2, severity: 'medium' }],
        reportUri: 's3://b/reports/churn/drift/r.html',
      },
    );
    // A checked batch with its report, which the page links to (GET ?report=<batch id>).
    const reportKey = 'reports/churn/drift/b1.html';
    await w.objects.put({ bucket: w.bucket, key: reportKey }, '<!doctype html><p>report</p>', 'text/html');
    await w.drift.putRecord({
      model: 'churn',
      batchId: 'b1b1b1b1b1b1',
      batchKey: 'monitoring/churn/batches/b1.csv',
      kind: 'batch',
      checkedAt: new Date(T0.getTime() - 3_600_000).toISOString(),
      status: 'ok',
      overallSeverity: 'medium',
      driftedShare: 0.25,
      rows: 1000,
      features: [{ name: 'sessions', method: 'ks-beyond-noise', score: 0.2, severity: 'medium' }],
      reportUri: `s3://${w.bucket}/${reportKey}`,
      alerted: false,
    });
    // Requests in every state a link can find them in.
    const pending = await requestFor(w, { approvers: [...APPROVERS, REQUESTOR] });
    const partly = await requestFor(w);
    await decideThroughLink(w, linkFor(partly.links, 'a@studio.test'), 'approve', 'ok');
    const approved = await requestFor(w, { quorum: 1 });
    await decideThroughLink(w, linkFor(approved.links, 'b@studio.test'), 'approve', 'ship it');
    const rejected = await requestFor(w);
    await decideThroughLink(w, linkFor(rejected.links, 'c@studio.test'), 'reject', 'no');
    const timedOut = await requestFor(w);
    await w.store.expireForVersion('churn', timedOut.version, 'production', 'approval expired');
    const shortLived = await requestFor(w, { timeoutSeconds: 60 });

    for (const [name, r] of Object.entries({ pending, partly, approved, rejected, timedOut, shortLived })) {
      for (const [approver, url] of r.links) links.push({ label: `${name} ${approver}`, url });
      const t = linkFor(r.links, 'a@studio.test').searchParams.get('t') ?? '';
      links.push({ label: `${name} unsigned`, url: { id: r.requestId } });
      links.push({ label: `${name} tampered`, url: { id: r.requestId, t: `2${t.slice(1)}` } });
      links.push({ label: `${name} junk`, url: { id: r.requestId, t: 'x.y.z' } });
      links.push({ label: `${name} report`, url: { id: r.requestId, t, report: 'b1b1b1b1b1b1' } });
      links.push({ label: `${name} no report`, url: { id: r.requestId, t, report: '../../runs' } });
    }
    const request = await w.store.require(pending.requestId);
    const self = signLink(
      w.key,
      {
        requestId: pending.requestId,
        approver: REQUESTOR,
        expiresAt: Math.floor(Date.parse(request.expiresAt) / 1000),
      },
      request.approvers.indexOf(REQUESTOR),
    );
    links.push({ label: 'requestor', url: { id: pending.requestId, t: self } });
    links.push({
      label: 'unknown',
      url: { id: 'apr-unknownRequest000000', t: '0.abc.AAAAAAAAAAAAAAAAAAAAAA' },
    });
    links.push({ label: 'bad id', url: { id: '../../etc', t: '0.abc.AAAAAAAAAAAAAAAAAAAAAA' } });
  });

  async function openAll(times: number) {
    for (let i = 0; i < times; i++) {
      for (const { label, url } of links) {
        for (const method of ['GET', 'HEAD'] as const) {
          const res = await w.http(getEvent(url, method));
          const seen = statuses.get(label) ?? new Set<number>();
          seen.add(res.statusCode ?? 0);
          statuses.set(label, seen);
        }
      }
    }
  }

  it('before and after expiry, three rounds of GET and HEAD of every link leave the table, the bucket and Step Functions untouched', async () => {
    const table = await w.scan();
    const bucket = JSON.stringify(await w.objects.list(w.bucket, ''));
    const calls = w.sfn.calls.length;

    await openAll(3);
    w.now = new Date(T0.getTime() + 120_000); // shortLived has expired now
    try {
      await openAll(3);
    } finally {
      w.now = T0;
    }

    expect(await w.scan()).toBe(table);
    expect(JSON.stringify(await w.objects.list(w.bucket, ''))).toBe(bucket);
    expect(w.sfn.calls.length).toBe(calls);

    // The links really did reach every kind of answer, so the comparison above means something.
    const all = new Set([...statuses.values()].flatMap((s) => [...s]));
    expect([...all].sort()).toEqual([200, 403, 404, 409, 410]);
    expect(statuses.get('pending a@studio.test')).toEqual(new Set([200]));
    expect(statuses.get('shortLived a@studio.test')).toEqual(new Set([200, 410]));
    expect(statuses.get('approved a@studio.test')).toEqual(new Set([409]));
    expect(statuses.get('timedOut a@studio.test')).toEqual(new Set([410]));
    expect(statuses.get('requestor')).toEqual(new Set([403]));
    // a batch's report is served through the link, and only through a link that opens
    expect(statuses.get('pending report')).toEqual(new Set([200]));
    expect(statuses.get('pending no report')).toEqual(new Set([404]));
    expect(statuses.get('approved report')).toEqual(new Set([409]));
  });
});
