import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalLinkIn, readOutbox } from '../../bin/cli/demo-approver.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../local/data/churn.js';
import { startAs, startTestStack, type TestStack } from '../support/local-stack.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = 'test-output';
const BASELINE = 'monitoring/churn/baseline/players.csv';
const WORST = 'monitoring/churn/batches/eu day 1.csv';
const TINY = 'monitoring/churn/batches/eu day 2 partial.csv';

/**
 * A person approving from the email: headless Chromium opens the link from the .eml in the
 * outbox, sees the model and its gates, and the model's recent drift: the worst batch (a "high"
 * day) beside the latest (50 rows, too few to judge), follows the worst one's link to its report
 * and comes back, clicks Approve, sees the confirmation, and the local execution goes on to
 * Deploy. The screenshots land in test-output/ for a person to look at.
 */
describe.skipIf(!existsSync(CHROMIUM))('approval page in a real browser', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
    const objects = new S3Objects(t.stack.s3.client);
    const bucket = t.stack.endpoints.bucket;
    await objects.put({ bucket, key: 'datasets/churn/churn.csv' }, churnCsv({ rows: 3000, seed: 21 }));
    // Monitoring: a baseline, a badly drifted day, then a 50-row batch that cannot be judged. Each
    // upload is checked by the drift handler through the local S3 notifications, in this order.
    for (const [key, body] of [
      [BASELINE, churnCsv({ rows: 3000, seed: 1 })],
      [
        WORST,
        churnCsv({ rows: 1500, seed: 2, drift: { sessionsPerWeekScale: 0.5, daysSinceLoginShift: 6 } }),
      ],
      [TINY, churnCsv({ rows: 50, seed: 3 })],
    ] as const) {
      await objects.put({ bucket, key }, body);
      await t.stack.notifications.idle();
    }
    expect(t.stack.notifications.failures).toEqual([]);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('opens the emailed link, approves, and the execution deploys', async () => {
    const executionArn = await startAs(t.stack, 'requestor@studio.test', {
      model: 'churn',
      stage: 'staging',
      reason: 'browser test',
    });
    let link: string | undefined;
    for (let i = 0; i < 300 && !link; i++) {
      await new Promise((r) => setTimeout(r, 100));
      link = readOutbox(t.stack.endpoints.outboxDir)
        .map((m) => approvalLinkIn(m.text))
        .find(Boolean);
    }
    expect(link, 'an approval email with a link').toBeTruthy();

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
      const response = await page.goto(link as string);
      expect(response?.status()).toBe(200);
      await expect(page.locator('h1').first().textContent()).resolves.toContain('churn');
      const body = (await page.textContent('body')) ?? '';
      expect(body).toContain('staging');
      expect(body).toContain('auc');
      expect(body).toMatch(/all required gates pass/);
      // Drift: the 50-row latest batch does not hide the high one before it; both have a time
      const worst = page.locator('#drift-worst');
      await expect(worst.locator('h3').textContent()).resolves.toBe('Worst recent batch: high');
      await expect(worst.textContent()).resolves.toContain(WORST);
      await expect(worst.locator('time').getAttribute('datetime')).resolves.toMatch(/^\d{4}-\d\d-\d\dT/);
      const latest = page.locator('#drift-latest');
      await expect(latest.locator('h3').textContent()).resolves.toBe('Latest batch: none');
      await expect(latest.textContent()).resolves.toMatch(/50 rows .*insufficient data/);
      await expect(latest.textContent()).resolves.toContain(TINY);
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'approval-page.png'), fullPage: true });

      // The worst batch's report opens through the same signed link, and the page comes back
      await worst.locator('a', { hasText: 'open its report' }).click();
      await page.waitForLoadState();
      expect(new URL(page.url()).searchParams.get('report')).toMatch(/^[0-9a-f]{12}$/);
      await expect(page.locator('h1').textContent()).resolves.toBe('Drift report: churn');
      await expect(page.locator('body').textContent()).resolves.toContain(`Batch ${WORST} checked`);
      await page.screenshot({ path: join(OUT, 'approval-drift-report.png'), fullPage: true });
      await page.goBack();
      await page.waitForLoadState();
      await expect(page.locator('#drift-worst h3').textContent()).resolves.toBe('Worst recent batch: high');

      await page.fill('textarea[name="comment"]', 'Checked the gates and the model card.');
      await page.click('button:has-text("Approve")');
      await page.waitForLoadState();
      expect(await page.textContent('h1')).toContain('Approved');
      await page.screenshot({ path: join(OUT, 'approval-confirmation.png') });
    } finally {
      await browser.close();
    }
    const done = await t.stack.engine.settled(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(
      done.events.some((e) => e.type === 'TaskStateExited' && JSON.stringify(e).includes('"Deploy"')),
    ).toBe(true);
  });
});
