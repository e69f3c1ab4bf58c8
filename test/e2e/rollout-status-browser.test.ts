import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { renderRolloutStatus } from '../../lambdas/domain/rollouts/status-html.js';
import { SAME, statusAfter } from '../support/rollout-evidence.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = 'test-output';

/**
 * The rollout status page as a person sees it: the decision banner, a chart per metric with a
 * row per variant (interval bar and estimate), a chart per sequential test with its limit, and
 * assigned against expected players. Screenshot: test-output/rollout-status.png.
 */
describe.skipIf(!existsSync(CHROMIUM))('rollout status page in headless Chromium', () => {
  it('renders the decision, the per-variant intervals, the tests and the SRM chart', async () => {
    const view = statusAfter({ ...SAME, errorRate: 0.04, latencyMedianMs: 90 }, 3);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.setContent(renderRolloutStatus(view));
      await expect(page.locator('h1').textContent()).resolves.toContain('churn-production-r1');
      await expect(page.locator('.decision h2').textContent()).resolves.toBe('Decision: roll back');
      // one chart per metric (converted, correct, error), each with a row per variant
      const figures = page.locator('figure svg');
      expect(await figures.count()).toBe(3);
      for (const svg of await figures.all()) {
        expect(await svg.locator('circle').count()).toBe(2);
        const box = await svg.boundingBox();
        expect(box?.width).toBeGreaterThan(600);
      }
      // a chart per test, with the canary's error interval wholly past its limit
      expect(await page.locator('.charts svg').count()).toBe(view.decision.tests.length);
      await expect(page.locator('tr.bad').first().textContent()).resolves.toContain('canary');
      // the SRM chart: assigned and expected bars per variant
      const srm = page.locator('svg[aria-label="assigned players against expected"]');
      expect(await srm.locator('rect').count()).toBe(4);
      expect(requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:'))).toEqual([]);
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'rollout-status.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
