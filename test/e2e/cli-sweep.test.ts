import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../local/data/churn.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import { loadRunnableConfig } from '../../local/trainers/config-trainers.js';
import { inChromium } from '../support/chromium.js';
import { DEFAULT_CONFIG as CONFIG, ROOT, runCli } from '../support/cli.js';

/**
 * `mlcycle sweep start|status|list` as a user runs them (child processes). A bad spec exits 2
 * with one line per problem before any stack is started or contacted; a good one starts the
 * sweep through the start route, and status shows its trials as their runs recorded them.
 */
const USER = 'data-scientist@studio.example';
const tmp = mkdtempSync(join(tmpdir(), 'mlcycle-cli-sweep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function specFile(name: string, spec: unknown): string {
  const file = join(tmp, name);
  writeFileSync(file, typeof spec === 'string' ? spec : stringify(spec));
  return file;
}
const lines = (r: { stderr: string }) => r.stderr.split('\n').filter((l) => l.trim() !== '');
const valid = {
  parameters: { learningRate: { logUniform: [0.001, 0.5] } },
  seed: 3,
  trials: 4,
  concurrency: 2,
  metric: 'auc',
  earlyStopping: { rule: 'asha', metric: 'trainLoss' },
};

describe('sweep start refused before anything starts (no stack)', () => {
  async function refused(args: string[]): Promise<string[]> {
    const dir = join(tmp, `never-${Math.random().toString(36).slice(2)}`);
    const r = await runCli(dir, args, { user: USER });
    expect(r.code, r.stderr).toBe(2);
    expect(existsSync(dir), 'a stack was started').toBe(false);
    return lines(r);
  }

  it('names each bad key of the file, and a missing file', async () => {
    const bad = specFile('bad.yaml', { ...valid, concurrency: 50, metric: 'speed', budget: 3 });
    const problems = (await refused(['sweep', 'start', 'churn', bad])).map((l) =>
      l.replace(/^mlcycle: /, ''),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${bad}: budget: got 3: Unrecognized key`)),
        expect.stringMatching(new RegExp(`^${bad}: concurrency: got 50: `)),
        expect.stringMatching(new RegExp(`^${bad}: metric: got "speed": `)),
      ]),
    );
    const missing = join(tmp, 'nope.yaml');
    expect(await refused(['sweep', 'start', 'churn', missing])).toEqual([
      `mlcycle: sweep spec ${missing} cannot be read (ENOENT); see examples/sweep.yaml for one`,
    ]);
  });

  it("checks every swept value against the trainer's trainer.yaml, as --set does", async () => {
    const typo = specFile('typo.yaml', { ...valid, parameters: { learningRat: { grid: [0.1] } } });
    expect(await refused(['sweep', 'start', 'churn', typo])).toEqual([
      'mlcycle: model churn: sweep parameters.learningRat=0.1: not a hyperparameter of containers/trainer; ' +
        'did you mean learningRate? (declared: learningRate, epochs, l2, batchSize, seed, schedule, earlyStoppingPatience)',
    ]);
  });
});

describe('sweep start / status / list against a local stack', () => {
  let dir = '';
  let stack: LocalStack;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-cli-sweep-stack-'));
    stack = await startLocalStack({ config: loadRunnableConfig(CONFIG, ROOT), dir, root: ROOT, fresh: true });
    await new S3Objects(stack.s3.client).put(
      { bucket: stack.endpoints.bucket, key: 'datasets/churn/churn.csv' },
      churnCsv({ rows: 1500, seed: 5 }),
      'text/csv',
    );
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts the sweep, and status shows every trial with its parameters, metric, status and the best', async () => {
    const r = await runCli(
      dir,
      ['sweep', 'start', 'churn', specFile('ok.yaml', valid), '--note', 'lr sweep'],
      {
        user: USER,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const id =
      /started sweep (churn-staging-sweep-\S+) as data-scientist@studio\.example: 4 trial\(s\), 2 at once/.exec(
        r.stdout,
      )?.[1];
    expect(id, r.stdout).toBeDefined();
    // The best trial waits for approval in staging once PickBest and Register have run.
    const registry = new Registry(createDocumentClient(stack.dynamo.client), stack.endpoints.tableName);
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline) {
      const runs = await registry.runs.listRuns('churn', 100);
      if (runs.some((run) => run.sweep?.id === id && run.sweep?.best && run.version)) break;
      await new Promise((done) => setTimeout(done, 500));
    }
    const status = await runCli(dir, ['sweep', 'status', id ?? '', '--json'], { user: USER });
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as {
      metric: string;
      trials: {
        trial: number;
        status: string;
        parameters: Record<string, number>;
        value: number | null;
        reason: string;
      }[];
      best: { trial: number; version: string; value: number } | null;
    };
    expect(s.metric).toBe('auc');
    expect(s.trials.map((t) => t.trial)).toEqual([0, 1, 2, 3]);
    for (const t of s.trials) {
      expect(t.parameters.learningRate).toBeGreaterThanOrEqual(0.001);
      if (t.status === 'stopped')
        expect(t.reason).toMatch(/^(stopped while training, after epoch \d+: )?ASHA rung/);
      else expect(t.value).toEqual(expect.any(Number));
    }
    expect(s.best?.version).toBe('1.0.0');
    // Its page, through the URL the CLI prints, in Chromium: every trial over time and against
    // the learning rate, stopped ones hollow, the chosen one marked.
    const paged = await runCli(dir, ['sweep', 'status', id ?? '', '--page', '--json'], { user: USER });
    expect(paged.code, paged.stderr).toBe(0);
    const { page: url } = JSON.parse(paged.stdout) as { page: string };
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/reports/churn/sweeps/${id}\\.html$`));
    await inChromium(url, 'sweep-page.png', async (page) => {
      expect(await page.locator('circle.trial').count()).toBe(2 * s.trials.length);
      const unmeasured = s.trials.filter((t) => t.value === null).length;
      expect(await page.locator('circle.trial[fill="none"]').count()).toBe(2 * unmeasured);
      expect(await page.locator('path.series[data-label="best auc"]').count()).toBe(1);
      expect(await page.locator('td', { hasText: `#${s.best?.trial} ★` }).count()).toBe(1);
    });
    const list = await runCli(dir, ['sweep', 'list'], { user: USER });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toMatch(new RegExp(`trial ${s.best?.trial} auc=`));
  }, 300_000);

  it('status of an unknown sweep fails with one line saying where to look', async () => {
    const r = await runCli(dir, ['sweep', 'status', 'churn-staging-sweep-nope'], { user: USER });
    expect(r.code).not.toBe(0);
    expect(lines(r)).toEqual([
      'mlcycle: no sweep churn-staging-sweep-nope: `mlcycle sweep list` shows the sweeps (their execution names)',
    ]);
  });
});
