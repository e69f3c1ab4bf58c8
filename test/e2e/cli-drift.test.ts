import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/adapters/config-file.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../local/data/churn.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import { DEFAULT_CONFIG as CONFIG, errorLines, ROOT, runCli } from '../support/cli.js';

/**
 * `mlcycle drift baseline|check|report` as a user runs them: the CLI in a child process against a
 * local stack this test runs (found through <dir>/endpoints.json, as `mlcycle up` is). The upload
 * fires the S3 notification, the stack runs the baseline/drift handler, the CLI waits for the
 * record and prints it.
 */
describe('mlcycle drift (CLI) against a running local stack', () => {
  let dir: string;
  let data: string;
  let stack: LocalStack;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-cli-drift-'));
    data = mkdtempSync(join(tmpdir(), 'mlcycle-cli-drift-data-'));
    stack = await startLocalStack({ config: loadConfig(CONFIG), dir, root: ROOT, fresh: true });
    const files: Record<string, string> = {
      'players baseline.csv': churnCsv({ rows: 3000, seed: 1 }),
      'eu day 1.csv': churnCsv({
        rows: 1500,
        seed: 2,
        drift: {
          sessionsPerWeekScale: 0.5,
          daysSinceLoginShift: 6,
          platformMix: { pc: 0.5 },
          missingRate: 0.25,
        },
      }),
      'low.csv': churnCsv({ rows: 1500, seed: 2, drift: { sessionsPerWeekScale: 0.7 } }),
      'header-only.csv': 'player_id,platform,region,level\n',
      'export.parquet': churnCsv({ rows: 10, seed: 3 }),
    };
    for (const [name, body] of Object.entries(files)) writeFileSync(join(data, name), body);
  });
  afterAll(async () => {
    await stack?.stop();
    for (const d of [dir, data]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(dir, args, { config: CONFIG });

  const uploaded = () => new S3Objects(stack.s3.client).list(stack.endpoints.bucket, 'monitoring/');
  const alertsInOutbox = () => readdirSync(stack.endpoints.outboxDir, { withFileTypes: true }).length;

  async function expectRefused(args: string[], message: RegExp, code = 2): Promise<void> {
    const r = await cli(...args);
    expect(r.code, r.stderr).toBe(code);
    expect(errorLines(r)).toEqual([expect.stringMatching(message)]);
    expect(r.stdout).not.toMatch(/Error|at .*\.ts:\d+/);
  }

  it('refuses a check before any baseline, uploading nothing', async () => {
    await expectRefused(
      ['drift', 'check', 'churn', join(data, 'eu day 1.csv')],
      /^mlcycle: no baseline for churn; profile one first: mlcycle drift baseline churn <file>$/,
    );
    expect(await uploaded()).toEqual([]);
  });

  it('profiles a baseline, then names the drifted features and their severities', async () => {
    const base = await cli('drift', 'baseline', 'churn', join(data, 'players baseline.csv'));
    expect(base.code, base.stderr).toBe(0);
    expect(base.stdout).toMatch(
      /^baseline monitoring\/churn\/baseline\/\S+-players baseline\.csv: ok\n3000 rows profiled$/m,
    );

    // --fail-on gates a CI job: overall high is at or above high ⇒ exit 3 (2 is bad input), one line.
    const check = await cli('drift', 'check', 'churn', join(data, 'eu day 1.csv'), '--fail-on', 'high');
    expect(check.code, check.stderr).toBe(3);
    expect(errorLines(check)).toEqual([
      'mlcycle: drift severity high is at or above --fail-on high (exit 3)',
    ]);
    const out = check.stdout;
    expect(out).toMatch(/^batch monitoring\/churn\/batches\/\S+-eu day 1\.csv: ok$/m);
    expect(out).toMatch(/^overall high; \d+% of features drifted; 1500 rows$/m);
    const severities = Object.fromEntries(
      [...out.matchAll(/^ {2}(\S+)\s+(\S+)\s+([\d.]+|n\/a)\s+(none|low|medium|high|critical)$/gm)].map(
        (m) => [m[1], m[4]],
      ),
    );
    expect(severities).toMatchObject({
      days_since_last_login: 'high',
      sessions_per_week: 'medium',
      // 1,500 rows: JS less its noise margin for the platform mix (the old rule scored the noise too)
      platform: 'low',
      // 2 % → 25 % missing: a change of 0.228 less its noise margin at 3,000 vs 1,500 rows (0.028)
      avg_session_minutes: 'low',
      churned: 'medium',
      region: 'none',
    });
    // what was measured, under each column, and the baseline it was compared with
    expect(out).toMatch(/^compared with baseline monitoring\/churn\/baseline\/.+\.csv$/m);
    expect(out).toMatch(
      /^ {6}KS [\d.]+ \(noise [\d.]+, p [^)]+\) · W\/σ [\d.]+ \(noise [\d.]+\) · PSI [\d.]+ · missing [\d.]+ % → [\d.]+ %$/m,
    );
    expect(out).toMatch(
      /^ {6}JS [\d.]+ \(noise [\d.]+, χ² p [^)]+\) · PSI [\d.]+ · missing [\d.]+ % → [\d.]+ %$/m,
    );
    expect(out).toMatch(/^report: s3:\/\/\S+\/reports\/churn\/drift\/\S+\.html$/m);
    expect(alertsInOutbox()).toBe(1);
  });

  it('--json prints the record as one parseable line (low drift passes --fail-on medium)', async () => {
    const r = await cli('drift', 'check', 'churn', join(data, 'low.csv'), '--json', '--fail-on', 'medium');
    expect(r.code, r.stderr).toBe(0);
    expect(errorLines(r)).toEqual([]);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? '');
    expect(record).toMatchObject({
      model: 'churn',
      kind: 'batch',
      status: 'ok',
      overallSeverity: 'low',
      rows: 1500,
      alerted: false,
      batchKey: expect.stringMatching(/^monitoring\/churn\/batches\/\S+-low\.csv$/),
    });
    expect(record.features).toContainEqual(
      expect.objectContaining({ name: 'sessions_per_week', severity: 'low' }),
    );
    expect(alertsInOutbox()).toBe(1);
  });

  it('a file the handler cannot read: exit 2 and one line with the handler’s reason', async () => {
    await expectRefused(
      ['drift', 'check', 'churn', join(data, 'header-only.csv')],
      /^mlcycle: batch monitoring\/churn\/batches\/\S+-header-only\.csv could not be processed: .*header but no data rows/,
    );
  });

  it('drift report --days 7 summarises the batches', async () => {
    const r = await cli('drift', 'report', 'churn', '--days', '7');
    expect(r.code, r.stderr).toBe(0);
    const today = new Date().toISOString().slice(0, 10);
    expect(r.stdout).toMatch(/^churn: 3 batches in 7 days \(1 failed\); worst high$/m);
    expect(r.stdout).toMatch(new RegExp(`^ {2}${today}\\s+3 batches\\s+worst high\\s+drifted \\d+%$`, 'm'));
    expect(r.stdout).toMatch(/^most often drifted:$/m);
    expect(r.stdout).toMatch(/^ {2}sessions_per_week\s+2\/3 batches, worst medium$/m);
    expect(r.stdout).toMatch(/^ {2}days_since_last_login\s+1\/3 batches, worst high$/m);

    const json = await cli('drift', 'report', 'churn', '--days', '7', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      batches: 3,
      errors: 1,
      worstSeverity: 'high',
      days: [{ day: today, batches: 3, worstSeverity: 'high' }],
      topFeatures: expect.arrayContaining([
        { name: 'sessions_per_week', drifted: 2, worstSeverity: 'medium' },
      ]),
    });
  });

  it('refuses bad input with one line naming the value, exit 2, and uploads nothing', async () => {
    const before = (await uploaded()).length;
    const missing = join(data, 'no such file.csv');
    await Promise.all([
      expectRefused(
        ['drift', 'check', 'nosuch', join(data, 'low.csv')],
        /^mlcycle: unknown model "nosuch"; the config defines: churn, ltv, segments$/,
      ),
      expectRefused(
        ['drift', 'baseline', 'churn', missing],
        new RegExp(`^mlcycle: cannot read "${missing}"`),
      ),
      expectRefused(['drift', 'check', 'churn', data], /^mlcycle: cannot read ".*": not an existing file$/),
    ]);
    await Promise.all([
      expectRefused(
        ['drift', 'check', 'churn', join(data, 'export.parquet')],
        /^mlcycle: ".*export\.parquet" has an unsupported extension/,
      ),
      expectRefused(['drift', 'report', 'churn', '--days', '0'], /^mlcycle: --days "0" must be 1-366$/),
      expectRefused(['drift', 'report', 'nosuch'], /^mlcycle: unknown model "nosuch"/),
      expectRefused(
        ['drift', 'check', 'churn', join(data, 'low.csv'), '--fail-on', 'severe'],
        /^mlcycle: --fail-on "severe" must be one of low, medium, high, critical$/,
      ),
    ]);
    await expectRefused(
      ['drift', 'check', 'churn', join(data, 'low.csv'), '--timeout', 'soon'],
      /^mlcycle: --timeout "soon"/,
    );
    expect((await uploaded()).length).toBe(before);
  });
  it('drift check prints a degraded batch and its warnings (most rows ragged)', async () => {
    const [header, ...rows] = churnCsv({ rows: 900, seed: 4 }).trimEnd().split('\n');
    const ragged = [header, ...rows.map((l, i) => (i % 3 === 0 ? l : `${l},extra`))].join('\n');
    writeFileSync(join(data, 'ragged.csv'), `${ragged}\n`);
    const r = await cli('drift', 'check', 'churn', join(data, 'ragged.csv'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^batch monitoring\/churn\/batches\/\S+-ragged\.csv: degraded$/m);
    expect(r.stdout).toMatch(/^warning: 600 of 900 rows skipped .*monitoring\.maxSkippedRowShare 0\.05/m);
  });

  it('random bytes as a baseline: exit 2 naming the reason, and the baseline stays', async () => {
    let x = 7;
    const nextByte = () => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return (x >> 16) & 255;
    };
    const bytes = Buffer.from(Array.from({ length: 20_000 }, nextByte));
    writeFileSync(join(data, 'noise.csv'), bytes);
    await expectRefused(
      ['drift', 'baseline', 'churn', join(data, 'noise.csv')],
      /^mlcycle: baseline monitoring\/churn\/baseline\/\S+-noise\.csv could not be processed: .*was refused: it (has NUL bytes|is not valid UTF-8)/,
    );
    const r = await cli('drift', 'check', 'churn', join(data, 'low.csv'));
    expect(r.code, r.stderr).toBe(0);
  });
});
