import { describe, expect, it } from 'vitest';
import { curveGroups } from '../../../lambdas/domain/registry/learning-curves.js';
import { compareRuns } from '../../../lambdas/domain/registry/run-comparison.js';
import { renderComparisonPage, renderRunPage } from '../../../lambdas/domain/registry/run-page.js';
import { epochs, sampleRun } from '../../support/run-pages.js';

const count = (html: string, re: RegExp) => (html.match(re) ?? []).length;
const options = { primaryMetric: 'auc', generatedAt: '2030-12-01T01:00:00.000Z' };

describe('run and comparison pages (pure rendering)', () => {
  it('groups the curves: losses together, then the primary metric; learning rate and epoch are not curves', () => {
    expect(curveGroups(['trainLoss', 'holdoutLoss', 'holdoutAuc', 'f1'], 'auc')).toEqual([
      { title: 'loss (train and validation)', fields: ['trainLoss', 'holdoutLoss'] },
      { title: 'auc (primary metric)', fields: ['holdoutAuc'] },
    ]);
    expect(curveGroups(['trainRmse', 'validationRmse', 'validationR2'], 'rmse')).toEqual([
      { title: 'rmse (primary metric)', fields: ['trainRmse', 'validationRmse'] },
    ]);
    expect(curveGroups(['a', 'b'], 'auc').map((g) => g.title)).toEqual(['a', 'b']);
  });

  it('a run page has the loss chart (train and validation paths) and the AUC chart, and the tables hold the values', () => {
    const html = renderRunPage(sampleRun(), options);
    expect(count(html, /<svg /g)).toBe(2);
    expect(count(html, /<path class="series"/g)).toBe(3);
    expect(html).toContain('data-label="trainLoss"');
    expect(html).toContain('data-label="holdoutLoss"');
    expect(html).toContain('data-label="holdoutAuc"');
    expect(html).not.toContain('data-label="learningRate"');
    expect(html).toMatch(
      /<td>learningRate<\/td><td>0\.05 <small class="muted">\(set for this run\)<\/small>/,
    );
    expect(html).toContain('<td>auc</td><td>0.8123</td>');
    expect(html).toContain('<td>validationAuc</td><td>0.8</td>');
  });

  it('is inert and self-contained: what a run says is escaped, nothing loads from elsewhere', () => {
    const html = renderRunPage(
      sampleRun({
        note: '<script>alert(1)</script>',
        cancelled: { by: 'x@y.z', at: 'now', reason: '"><img src=x onerror=alert(1)>' },
        parameters: { '<b>': '<i>' },
        // What a trainer's metrics put in a stopped trial's reason.
        sweep: { id: 'churn-sweep-1', trial: 3, best: false, stopped: 'ASHA rung 0: <svg onload=alert(1)>' },
      }),
      options,
    );
    expect(html).not.toMatch(/<script|<img|<b>|<i>|<svg onload/);
    expect(html).toContain('trial 3 of <code>churn-sweep-1</code>: ASHA rung 0: &lt;svg onload=alert(1)&gt;');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    // Nothing loads from elsewhere: no element with a src or href attribute at all.
    expect(renderRunPage(sampleRun(), options)).not.toMatch(/\b(src|href)=/);
  });

  it('a run without per-epoch metrics says so instead of drawing', () => {
    const html = renderRunPage(sampleRun({ epochs: [] }), options);
    expect(html).not.toContain('<svg');
    expect(html).toContain('wrote no per-epoch metrics');
  });

  it('a comparison puts every run on one chart per metric (one path each, a legend) and marks the differences', () => {
    const runs = [
      { label: 'r-fast', epochs: epochs(10, 1, 0.5) },
      { label: 'r-slow', epochs: epochs(14, 2, 0.15) },
      { label: '1.2.0', epochs: epochs(6, 3, 0.3) },
    ];
    const rows = compareRuns(
      runs.map((r, i) => ({
        label: r.label,
        facts: { model: 'churn', run: r.label },
        parameters: { epochs: r.epochs.length, l2: 0.001 },
        metrics: { auc: 0.7 + i * 0.05, logLoss: 0.5 - i * 0.01 },
      })),
    );
    const html = renderComparisonPage('churn', runs, rows, options);
    const charts = html
      .split('<figure>')
      .slice(1)
      .map((c) => c.split('</figure>')[0] ?? '');
    expect(charts.map((c) => /<figcaption>([^<]+)/.exec(c)?.[1])).toEqual([
      'trainLoss',
      'holdoutLoss',
      'holdoutAuc',
    ]);
    for (const chart of charts) {
      expect(count(chart, /<path class="series"/g)).toBe(3);
      expect([...chart.matchAll(/class="key"><i [^>]+><\/i>([^<]+)/g)].map((m) => m[1])).toEqual([
        'r-fast',
        'r-slow',
        '1.2.0',
      ]);
    }
    expect(html).toMatch(
      /<tr class="differs"><td class="mark">≠<\/td><td>epochs<\/td><td>10<\/td><td>14<\/td><td>6<\/td>/,
    );
    expect(html).toMatch(/<tr class="same"><td class="mark"><\/td><td>l2<\/td>/);
    // The best AUC is the third run's (higher is better), the best log loss too (lower is better).
    expect(html).toMatch(/<td>auc<\/td><td>0\.7<\/td><td>0\.75<\/td><td class="best">0\.8<\/td>/);
    expect(html).toMatch(/<td>logLoss<\/td><td>0\.5<\/td><td>0\.49<\/td><td class="best">0\.48<\/td>/);
  });
});
