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

/**
 * A person approving from the email: headless Chromium opens the link from the .eml in the
 * outbox, sees the model and its gates, clicks Approve, sees the confirmation, and the local
 * execution goes on to Deploy. The screenshot lands in test-output/ for a person to look at.
 */
describe.skipIf(!existsSync(CHROMIUM))('approval page in a real browser', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
    await new S3Objects(t.stack.s3.client).put(
      { bucket: t.stack.endpoints.bucket, key: 'datasets/churn/churn.csv' },
      churnCsv({ rows: 3000, seed: 21 }),
    );
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
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'approval-page.png'), fullPage: true });

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
