import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { compareProfiles } from '../../lambdas/domain/drift/compare.js';
import { renderDriftReport } from '../../lambdas/domain/drift/report-html.js';
import { Random } from '../../lambdas/domain/ml/random.js';
import { profileBytes } from '../../lambdas/domain/profile/profiler.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = 'test-output';

function profileOf(rows: number, seed: number, spread: number, mix: number[]) {
  const r = new Random(seed);
  const lines = ['spend,stable,platform'];
  for (let i = 0; i < rows; i++)
    lines.push(
      `${r.normal(50, 10 * spread).toFixed(2)},${r.normal(0, 1).toFixed(3)},${['ios', 'android', 'web'][r.choice(mix)]}`,
    );
  return profileBytes(Buffer.from(`${lines.join('\n')}\n`), { format: 'csv' });
}

/**
 * The drift report as a person sees it: every column has a chart with y-axis values, the table
 * shows raw distance, noise margin and p-value, and the header names the baseline. The
 * screenshot lands in test-output/drift-report.png for a person to look at.
 */
describe.skipIf(!existsSync(CHROMIUM))('drift report in headless Chromium', () => {
  it('renders every column’s chart with y-axis values and the measurements', async () => {
    const result = compareProfiles(profileOf(5_000, 1, 1, [5, 3, 2]), profileOf(4_000, 2, 1.6, [3, 3, 4]), {
      thresholds: { low: 0.1, medium: 0.2, high: 0.3, critical: 0.5 },
      minSampleSize: 200,
    });
    const html = renderDriftReport(
      'churn',
      'monitoring/churn/batches/day1.csv',
      result,
      '2026-03-02T00:00:00Z',
      'monitoring/churn/baseline/january.csv',
    );
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
      await page.setContent(html);
      await expect(page.locator('h1').textContent()).resolves.toContain('churn');
      await expect(page.locator('body').textContent()).resolves.toContain(
        'rows of the baseline monitoring/churn/baseline/january.csv',
      );
      expect(await page.locator('section svg').count()).toBe(3);
      // each chart's y-axis: three tick labels ending in %
      for (const svg of await page.locator('section svg').all())
        expect(await svg.locator('text[text-anchor="end"]').allTextContents()).toEqual([
          '0.0%',
          expect.stringMatching(/^\d+(\.\d)?%$/),
          expect.stringMatching(/^\d+(\.\d)?%$/),
        ]);
      const headers = await page.locator('table').first().locator('th').allTextContents();
      expect(headers).toEqual(
        expect.arrayContaining(['raw distance', 'noise margin', 'p-value', 'W/σ', 'PSI']),
      );
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'drift-report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
