import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../local/data/churn.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import { attachTrainers } from '../../local/trainers/config-trainers.js';
import { CHROMIUM, inChromium } from '../support/chromium.js';
import { DEFAULT_CONFIG, ROOT, runCli } from '../support/cli.js';
import { startAs } from '../support/local-stack.js';

const SCIENTIST = 'data-scientist@studio.example';

/**
 * Run and comparison pages as a person sees them: two real runs of the reference trainer on a
 * local stack (different learning rates), `runs show --page` and `runs compare --page` in child
 * processes print the local gateway's URL, and headless Chromium opens them there: one path per
 * run on every comparison chart, the tables hold the recorded values, no console errors.
 * Screenshots land in test-output/run-page.png and run-comparison.png for a person to look at.
 */
describe.skipIf(!existsSync(CHROMIUM))('run pages (CLI --page, local gateway, headless Chromium)', () => {
  let dir: string;
  let stack: LocalStack;
  let registry: Registry;
  const runIds: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-pages-'));
    // With the trainers' declared hyperparameters, as `mlcycle up` deploys it (overrides are checked).
    // A validation split, so the trainer reports validation loss and AUC per epoch as well.
    const raw = parse(readFileSync(DEFAULT_CONFIG, 'utf8')) as {
      models: { churn: { evaluation: Record<string, unknown> } };
    };
    raw.models.churn.evaluation.validationFraction = 0.15;
    const config = attachTrainers(parseConfig(raw), DEFAULT_CONFIG, ROOT);
    stack = await startLocalStack({ config, dir, root: ROOT, fresh: true });
    registry = new Registry(createDocumentClient(stack.dynamo.client), stack.endpoints.tableName);
    await new S3Objects(stack.s3.client).put(
      { bucket: stack.endpoints.bucket, key: 'datasets/churn/players.csv' },
      churnCsv({ rows: 3000, seed: 11 }),
      'text/csv',
    );
    for (const learningRate of [0.05, 0.3]) {
      await startAs(stack, SCIENTIST, {
        model: 'churn',
        stage: 'staging',
        reason: `learning rate ${learningRate}`,
        overrides: { learningRate, epochs: 15 },
      });
    }
    // Both trained and were measured (they then wait at Approve).
    const deadline = Date.now() + 150_000;
    for (;;) {
      const runs = await registry.runs.listRuns('churn');
      if (runs.length === 2 && runs.every((r) => r.metrics?.auc !== undefined)) {
        // In the order of their learning rates (they started in the same second).
        const rate = (r: (typeof runs)[number]) => Number(r.hyperparameters.learningRate);
        runIds.push(...[...runs].sort((a, b) => rate(a) - rate(b)).map((r) => r.runId));
        break;
      }
      if (runs.some((r) => r.status === 'failed')) throw new Error(`a run failed: ${JSON.stringify(runs)}`);
      if (Date.now() > deadline) throw new Error(`runs not measured in time: ${JSON.stringify(runs)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(dir, args, { user: SCIENTIST });

  it('runs show --page prints the local URL of the run page: its curves and values', async () => {
    const [first] = runIds;
    const shown = await cli('runs', 'show', first ?? '', '--page');
    expect(shown.code, shown.stderr).toBe(0);
    const url = /page: (http:\/\/\S+)/.exec(shown.stdout)?.[1];
    expect(url).toBe(`${stack.endpoints.api.replace(/\/$/, '')}/reports/churn/runs/${first}.html`);
    const run = await registry.runs.getRun('churn', first ?? '');
    await inChromium(url ?? '', 'run-page.png', async (page) => {
      await expect(page.locator('h1').textContent()).resolves.toBe(`Run ${first} of churn`);
      // Loss (train and holdout) on one chart, the primary metric (AUC) on the other.
      expect(await page.locator('figcaption').allTextContents()).toEqual([
        'loss (train and validation)',
        'auc (primary metric)',
      ]);
      expect(await page.locator('figure').nth(0).locator('path.series').count()).toBe(2);
      expect(await page.locator('figure').nth(1).locator('path.series').count()).toBe(1);
      const params = await page.locator('table.parameters tr').allTextContents();
      expect(params).toContain('learningRate0.05 (set for this run)');
      expect(params).toContain('epochs15 (set for this run)');
      const metrics = await page.locator('table.metrics tr').allTextContents();
      expect(metrics).toContain(`auc${Number((run?.metrics?.auc ?? 0).toPrecision(6))}`);
    });
  }, 120_000);

  it('runs compare --page: every learning curve with one path per run, differences marked', async () => {
    const compared = await cli('runs', 'compare', ...runIds, '--page', '--json');
    expect(compared.code, compared.stderr).toBe(0);
    const { page: url } = JSON.parse(compared.stdout) as { page: string };
    expect(url).toMatch(/\/reports\/churn\/comparisons\/[0-9a-f]{16}\.html$/);
    await inChromium(url, 'run-comparison.png', async (page) => {
      const charts = page.locator('figure');
      expect(await charts.count()).toBeGreaterThanOrEqual(2);
      for (const chart of await charts.all()) {
        expect(await chart.locator('path.series').count()).toBe(2);
        expect(await chart.locator('.legend .key').allTextContents()).toEqual(runIds);
      }
      const rate = page.locator('table.compare-parameter tr', { hasText: 'learningRate' });
      await expect(rate.getAttribute('class')).resolves.toBe('differs');
      expect(await rate.locator('td').allTextContents()).toEqual(['≠', 'learningRate', '0.05', '0.3']);
      const seed = page.locator('table.compare-parameter tr', { hasText: 'seed' });
      await expect(seed.getAttribute('class')).resolves.toBe('same');
      expect(await page.locator('table.compare-metric td.best').count()).toBeGreaterThan(0);
    });
  }, 120_000);

  it('the gateway serves page keys only, and names a missing page', async () => {
    const base = stack.endpoints.api.replace(/\/$/, '');
    const missing = await fetch(`${base}/reports/churn/runs/nope.html`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { message: string }).message).toMatch(
      /no page reports\/churn\/runs\/nope\.html/,
    );
    const profile = await fetch(`${base}/reports/churn/profiles/baseline.json`);
    expect(profile.status).toBe(404);
  });
});
