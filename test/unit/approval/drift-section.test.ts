import { describe, expect, it } from 'vitest';
import type { DriftSummary } from '../../../lambdas/contracts/drift-summary.js';
import { driftSection, reportHref } from '../../../lambdas/domain/approval/drift-section.js';
import { recentDrift } from '../../../lambdas/domain/drift/recent.js';
import type { DriftRecord } from '../../../lambdas/domain/drift/record.js';

const NOW = new Date('2030-03-10T12:00:00.000Z');
const WINDOW = { days: 7, batches: 200 };
const href = (id: string) => reportHref('apr-123456', '0.abc.def', id);

function record(id: string, hoursAgo: number, more: Partial<DriftRecord> = {}): DriftRecord {
  return {
    model: 'churn',
    batchId: id,
    batchKey: `monitoring/churn/batches/${id}.csv`,
    kind: 'batch',
    checkedAt: new Date(NOW.getTime() - hoursAgo * 3_600_000).toISOString(),
    status: 'ok',
    overallSeverity: 'none',
    driftedShare: 0,
    rows: 1000,
    features: [],
    reportUri: `s3://b/reports/churn/drift/${id}.html`,
    alerted: false,
    ...more,
  };
}

const summary: DriftSummary = {
  model: 'churn',
  batchKey: 'monitoring/churn/batches/march.csv',
  checkedAt: '2030-02-01T00:00:00.000Z',
  status: 'degraded',
  overallSeverity: 'high',
  driftedShare: 0.5,
  rows: 900,
  features: [],
  reportUri: 's3://b/reports/churn/drift/march.html',
};

describe('the decision page drift section', () => {
  it("a report link is the page's own link with the batch id, every part encoded", () => {
    expect(reportHref('apr-1', '0.a.b', 'x&y')).toBe('apr-1?t=0.a.b&report=x%26y');
  });

  it('no batch in the window: says so, and what the latest check found before it', () => {
    const html = driftSection({
      recent: recentDrift([record('old', 24 * 30)], NOW, WINDOW),
      summary,
      reportHref: href,
    });
    expect(html).toMatch(/No batch was checked in the last 7 days/);
    expect(html).toContain('march.csv');
    expect(html).toMatch(/sev-high">high<\/span> \(degraded\)/);
    expect(html).not.toContain('report=');
    expect(driftSection({ recent: recentDrift([], NOW, WINDOW), summary: null, reportHref: href })).toMatch(
      /No drift data yet/,
    );
  });

  it('uploads that could not be checked are counted with the latest reason', () => {
    const html = driftSection({
      recent: recentDrift(
        [
          record('fine', 5),
          record('bin1', 3, { status: 'error', error: 'binary file' }),
          record('bin2', 2, { status: 'error', error: 'UTF-16 file: save it as UTF-8' }),
        ],
        NOW,
        WINDOW,
      ),
      summary: null,
      reportHref: href,
    });
    expect(html).toMatch(
      /2 uploads in the last 7 days .* could not be checked; the latest, <code>monitoring\/churn\/batches\/bin2\.csv<\/code>/,
    );
    expect(html).toContain('UTF-16 file: save it as UTF-8');
    expect(html).toContain('id="drift-both"');
  });

  it('what a batch file or column is named is escaped, never markup', () => {
    const html = driftSection({
      recent: recentDrift(
        [
          record('evil', 1, {
            batchKey: 'monitoring/churn/batches/<img src=x onerror=alert(1)>.csv',
            overallSeverity: 'high',
            features: [
              { name: '<script>x</script>', method: 'ks-beyond-noise', score: 0.4, severity: 'high' },
            ],
          }),
        ],
        NOW,
        WINDOW,
      ),
      summary: null,
      reportHref: href,
    });
    expect(html).not.toMatch(/<img|<script/);
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html).toContain('href="apr-123456?t=0.abc.def&amp;report=evil"');
  });
});
