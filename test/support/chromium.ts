import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ConsoleMessage, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's chromium, headless, with no sandbox, GPU or background traffic (as on CI). */
export const CHROMIUM = '/usr/bin/chromium';
const OUT = 'test-output';

/**
 * Opens a page the local gateway serves (status 200, its inert-page CSP), runs `check`, expects no
 * console error or warning, and keeps a full-page screenshot under test-output/.
 */
export async function inChromium(url: string, screenshot: string, check: (page: Page) => Promise<void>) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
    const problems: string[] = [];
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    await check(page);
    expect(problems).toEqual([]);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, screenshot), fullPage: true });
  } finally {
    await browser.close();
  }
}
