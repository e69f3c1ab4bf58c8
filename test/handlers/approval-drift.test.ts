import { beforeAll, describe, expect, it } from 'vitest';
import type { DriftRecord } from '../../lambdas/adapters/drift/drift-store.js';
import type { Severity } from '../../lambdas/contracts/drift-summary.js';
import { makeApprovalHttpHandler } from '../../lambdas/handlers/approval-http.js';
import {
  type ApprovalWorld,
  getEvent,
  linkFor,
  requestFor,
  T0,
  useApprovalWorld,
} from '../adapters/approval/fixtures.js';

const hoursAgo = (h: number) => new Date(T0.getTime() - h * 3_600_000).toISOString();
const REPORT = (id: string) =>
  `<!doctype html><html><body><h1>Drift report: churn</h1><p>batch ${id}</p></body></html>`;

/** The visible text of a page. */
const text = (html: string | undefined) =>
  (html ?? '')
    .replace(/<style>[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** The href of the report link inside the page's block with this id. */
function reportLinkIn(html: string, block: string): URL | undefined {
  const start = html.indexOf(`id="${block}"`);
  if (start < 0) return undefined;
  const end = html.indexOf('</div>', start);
  const href = /<a href="([^"]+)">open its report<\/a>/.exec(html.slice(start, end))?.[1];
  return href ? new URL(href.replace(/&amp;/g, '&'), 'https://api.test/approvals/') : undefined;
}

/**
 * The approval page's drift section reads the model's drift records: the worst batch of the
 * configured window beside the latest, each with its time and a link to its report, which the
 * same signed link serves. Only reports of the request's model, in the window, as their records
 * name them, are ever served.
 */
describe('the approval page shows the worst recent drift batch, not only the latest', () => {
  const suite = useApprovalWorld();
  let w: ApprovalWorld;
  let links: Map<string, URL>;
  let requestId: string;

  async function batch(
    id: string,
    h: number,
    overallSeverity: Severity,
    more: Partial<DriftRecord> = {},
    model = 'churn',
  ): Promise<DriftRecord> {
    const reportKey = `reports/${model}/drift/${id}.html`;
    await w.objects.put({ bucket: w.bucket, key: reportKey }, REPORT(id), 'text/html');
    const record: DriftRecord = {
      model,
      batchId: id,
      batchKey: `monitoring/${model}/batches/${id}.csv`,
      kind: 'batch',
      checkedAt: hoursAgo(h),
      status: 'ok',
      overallSeverity,
      driftedShare: overallSeverity === 'none' ? 0 : 0.5,
      rows: 8000,
      features: [
        {
          name: 'sessions_per_week',
          method: 'ks-beyond-noise',
          score: overallSeverity === 'none' ? 0 : 0.31,
          severity: overallSeverity,
          measured: {
            ks: 0.34,
            ksNoiseMargin: 0.028,
            pValue: 0,
            pValueTest: 'ks',
            missingPercent: { baseline: 2, batch: 2.1, noiseMargin: 0.6 },
          },
        },
      ],
      reportUri: `s3://${w.bucket}/${reportKey}`,
      alerted: false,
      ...more,
    };
    await w.drift.putRecord(record);
    return record;
  }

  beforeAll(async () => {
    w = suite().world;
    await batch('monday1234ab', 72, 'low');
    await batch('tuesday12345', 48, 'high');
    await batch('tinybatch123', 1, 'none', { status: 'insufficient-data', rows: 50 });
    // outside the 7-day window, another model's, a baseline, and a forged pointer elsewhere
    await batch('oldcritical1', 8 * 24, 'critical');
    await batch('otherModel12', 5, 'critical', {}, 'ltv');
    await batch('baseline1234', 3, 'critical', { kind: 'baseline' });
    await batch('forged123456', 30, 'low', { reportUri: `s3://${w.bucket}/runs/churn/run/model_card.json` });
    await batch('notanuri1234', 32, 'low', { reportUri: 'reports/churn/drift/x.html' });
    await batch('elsewhere123', 31, 'low', {
      reportUri: 's3://someone-elses-bucket/reports/churn/drift/x.html',
    });
    ({ links, requestId } = await requestFor(w));
  });

  it('a 50-row "insufficient data" latest batch does not hide the "high" of two days before: both are shown, each with its time and report', async () => {
    const res = await w.http(getEvent(linkFor(links, 'a@studio.test')));
    expect(res.statusCode).toBe(200);
    const html = res.body ?? '';
    const page = text(html);
    expect(page).toMatch(
      /Worst recent batch: high monitoring\/churn\/batches\/tuesday12345\.csv checked 2030-02-27T12:00:00\.000Z/,
    );
    expect(page).toMatch(
      /Latest batch: none monitoring\/churn\/batches\/tinybatch123\.csv checked 2030-03-01T11:00:00\.000Z · 50 rows/,
    );
    expect(page).toContain('insufficient data');
    // what was measured, not only a score
    expect(page).toContain('KS 0.34 (noise 0.028, p < 1e-100)');
    expect(page).toMatch(/checked in the last 7 days \(since 2030-02-22T12:00:00\.000Z/);
    expect(page).not.toContain('oldcritical1');
    expect(page).not.toContain('otherModel12');

    const worst = reportLinkIn(html, 'drift-worst');
    expect(worst?.searchParams.get('report')).toBe('tuesday12345');
    // the page's own signed link, so the report opens for this approver and no one else
    expect(worst?.searchParams.get('t')).toBe(linkFor(links, 'a@studio.test').searchParams.get('t'));
    expect(worst?.pathname).toBe(`/approvals/${requestId}`);
    const report = await w.http(getEvent(worst as URL));
    expect(report.statusCode).toBe(200);
    expect(report.body).toBe(REPORT('tuesday12345'));
    expect(report.headers?.['content-security-policy']).toMatch(/default-src 'none'/);

    const latest = reportLinkIn(html, 'drift-latest');
    expect(latest?.searchParams.get('report')).toBe('tinybatch123');
    expect((await w.http(getEvent(latest as URL))).body).toBe(REPORT('tinybatch123'));
    // HEAD answers the status alone
    const head = await w.http(getEvent(worst as URL, 'HEAD'));
    expect([head.statusCode, head.body]).toEqual([200, '']);
  });

  it('the report view serves only reports of this model, checked in the window, from where their records say under reports/', async () => {
    const url = linkFor(links, 'c@studio.test');
    const t = url.searchParams.get('t') ?? '';
    for (const [report, why] of [
      ['oldcritical1', /not a batch of churn checked in the last 7 days/],
      ['otherModel12', /not a batch of churn/],
      ['baseline1234', /not a batch of churn/],
      ['../../runs/churn/run/model_card', /not a batch of churn/],
      ['x'.repeat(500), /not a batch of churn/],
      ['', /not a batch of churn/],
      ['forged123456', /is not stored at/],
      ['elsewhere123', /is not stored at/],
      ['notanuri1234', /is not stored at/],
    ] as const) {
      const res = await w.http(getEvent({ id: requestId, t, report }));
      expect([report.slice(0, 20), res.statusCode]).toEqual([report.slice(0, 20), 404]);
      expect(text(res.body)).toMatch(why);
      expect(res.body).not.toContain('Drift report: churn');
    }
    // and without a valid link nothing is served at all
    for (const bad of [undefined, `${t.slice(0, -2)}${t.endsWith('AA') ? 'BB' : 'AA'}`]) {
      const res = await w.http(
        getEvent({ id: requestId, ...(bad ? { t: bad } : {}), report: 'tuesday12345' }),
      );
      expect([bad, res.statusCode]).toEqual([bad, 403]);
      expect(res.body).not.toContain('Drift report');
    }
  });

  it('the window is what the deps say (the deployed config): outside it, a batch is neither shown nor served', async () => {
    const http = makeApprovalHttpHandler(() => ({
      store: w.store,
      registry: w.registry,
      objects: w.objects,
      bucket: w.bucket,
      sfn: w.sfn,
      key: async () => w.key,
      clock: () => w.now,
      drift: { records: w.drift, window: () => ({ days: 1, batches: 200 }) },
    }));
    const url = linkFor(links, 'a@studio.test');
    const html = (await http(getEvent(url))).body ?? '';
    expect(text(html)).toMatch(/Latest batch, also the worst recent one: none .*tinybatch123/);
    expect(text(html)).toMatch(/1 batch checked in the last day/);
    expect(html).not.toContain('tuesday12345');
    const t = url.searchParams.get('t') ?? '';
    const res = await http(getEvent({ id: requestId, t, report: 'tuesday12345' }));
    expect(res.statusCode).toBe(404);
    expect(text(res.body)).toMatch(/not a batch of churn checked in the last day/);
  });

  it('a degraded batch is shown as degraded, with its warning; when the worst is also the latest it is shown once', async () => {
    await batch('degraded1234', 0.5, 'critical', {
      status: 'degraded',
      skippedRows: 400,
      warnings: ['400 of 600 rows skipped (66.7%, more than monitoring.maxSkippedRowShare 0.05)'],
    });
    const html = (await w.http(getEvent(linkFor(links, 'b@studio.test')))).body ?? '';
    const page = text(html);
    expect(page).toMatch(
      /Latest batch, also the worst recent one: critical monitoring\/churn\/batches\/degraded1234\.csv/,
    );
    expect(page).toMatch(/degraded 400 of 600 rows skipped/);
    expect(html).not.toContain('id="drift-worst"');
    expect(reportLinkIn(html, 'drift-both')?.searchParams.get('report')).toBe('degraded1234');
  });
});
