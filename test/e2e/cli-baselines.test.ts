import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { loadConfig } from '../../lambdas/adapters/config-file.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../local/data/churn.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import { DEFAULT_CONFIG as CONFIG, errorLines, ROOT, runCli } from '../support/cli.js';
import { tableSnapshot } from '../support/emulators.js';

/**
 * `mlcycle drift baselines|use-baseline|discard-baseline|discard-batch` as a user runs them: the CLI
 * in a child process against a local stack, through the control API as the `--as` person
 * (MLCYCLE_USER). Each decision is audited; a refusal leaves the table and the bucket as they were.
 */
describe('mlcycle drift baseline versions (CLI)', () => {
  let dir: string;
  let data: string;
  let stack: LocalStack;
  const USER = 'data-scientist@studio.example';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-cli-baselines-'));
    data = mkdtempSync(join(tmpdir(), 'mlcycle-cli-baselines-data-'));
    stack = await startLocalStack({ config: loadConfig(CONFIG), dir, root: ROOT, fresh: true });
    const files: Record<string, string> = {
      'good.csv': churnCsv({ rows: 1500, seed: 1 }),
      'test export.csv': churnCsv({ rows: 1200, seed: 2, drift: { daysSinceLoginShift: 8 } }),
      'day 1.csv': churnCsv({ rows: 1200, seed: 3, drift: { missingRate: 0.5 } }),
    };
    for (const [name, body] of Object.entries(files)) writeFileSync(join(data, name), body);
  });
  afterAll(async () => {
    await stack?.stop();
    for (const d of [dir, data]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(dir, args, { config: CONFIG, user: USER });
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  /** Every item of the table and every object of the bucket. */
  const state = async () => {
    const doc = createDocumentClient(stack.dynamo.client);
    const objects = await new S3Objects(stack.s3.client).list(stack.endpoints.bucket, '');
    return JSON.stringify([
      await tableSnapshot(doc, stack.endpoints.tableName),
      objects.map((o) => `${o.key}:${o.size}`).sort(),
    ]);
  };
  const listing = async () => JSON.parse((await ok('drift', 'baselines', 'churn', '--json')).stdout);

  let good: string;
  let bad: string;

  it('lists every accepted baseline, newest first, the active one marked', async () => {
    await ok('drift', 'baseline', 'churn', join(data, 'good.csv'));
    await ok('drift', 'baseline', 'churn', join(data, 'test export.csv'));
    const l = await listing();
    expect(l.versions).toHaveLength(2);
    [bad, good] = l.versions.map((v: { id: string }) => v.id);
    expect(l).toMatchObject({
      model: 'churn',
      active: bad,
      versions: [
        { id: bad, active: true, rows: 1200, sourceKey: expect.stringMatching(/-test export\.csv$/) },
        { id: good, active: false, rows: 1500, sourceKey: expect.stringMatching(/-good\.csv$/) },
      ],
      audit: [],
    });
    const human = (await ok('drift', 'baselines', 'churn')).stdout;
    expect(human).toMatch(new RegExp(`^churn: 2 baselines, active ${bad}$`, 'm'));
    expect(human).toMatch(
      new RegExp(
        `^\\* ${bad}  \\S+\\s+1200 rows\\s+\\d+ columns  monitoring/churn/baseline/\\S+-test export\\.csv  \\(S3 upload`,
        'm',
      ),
    );
    expect(human).toMatch(new RegExp(`^ {2}${good}  `, 'm'));
  });

  it('refuses to discard the active baseline with one line saying to use another first; nothing changes', async () => {
    const before = await state();
    const r = await cli('drift', 'discard-baseline', 'churn', bad, '--reason', 'test export');
    expect(r.code, r.stderr).toBe(2);
    expect(errorLines(r)).toEqual([
      `mlcycle: baseline ${bad} is the active baseline of churn and cannot be discarded; make another one active first: mlcycle drift use-baseline churn <id> --reason "…"`,
    ]);
    const noReason = await cli('drift', 'use-baseline', 'churn', good, '--reason', ' ');
    expect(noReason.code).toBe(2);
    expect(errorLines(noReason)).toEqual([
      'mlcycle: --reason must say why you change the baseline (kept in the audit trail)',
    ]);
    const unknown = await cli('drift', 'use-baseline', 'churn', 'nope', '--reason', 'x');
    expect(errorLines(unknown)).toEqual([
      `mlcycle: no baseline "nope" for churn; its baselines are ${bad}, ${good} (mlcycle drift baselines churn)`,
    ]);
    expect(await state()).toBe(before);
  });

  it('uses the earlier baseline, discards the bad one, and sets a bad batch aside; all audited', async () => {
    const used = await ok(
      'drift',
      'use-baseline',
      'churn',
      good,
      '--reason',
      'the second file was a test export',
    );
    expect(used.stdout).toMatch(
      new RegExp(`^churn: baseline ${good} is active \\(was ${bad}\\); by ${USER}$`, 'm'),
    );
    await ok('drift', 'discard-baseline', 'churn', bad, '--reason', 'test export, never production data');

    const check = JSON.parse((await ok('drift', 'check', 'churn', join(data, 'day 1.csv'), '--json')).stdout);
    expect(check.baselineKey).toMatch(/-good\.csv$/);
    const discarded = await ok(
      'drift',
      'discard-batch',
      'churn',
      check.batchKey,
      '--reason',
      'export job dropped half the values',
    );
    expect(discarded.stdout).toMatch(/discarded by data-scientist@studio\.example; left out of drift report/);

    const report = JSON.parse((await ok('drift', 'report', 'churn', '--json')).stdout);
    expect(report).toMatchObject({ batches: 0, discardedBatches: 1 });

    const l = await listing();
    expect(l.active).toBe(good);
    expect(l.versions.find((v: { id: string }) => v.id === bad).discarded).toMatchObject({
      by: USER,
      reason: 'test export, never production data',
      principal: null,
    });
    expect(
      l.audit.map((a: { action: string; target: string; actor: string }) => [a.action, a.target, a.actor]),
    ).toEqual([
      ['use-baseline', good, USER],
      ['discard-baseline', bad, USER],
      ['discard-batch', check.batchKey, USER],
    ]);
    const human = (await ok('drift', 'baselines', 'churn')).stdout;
    expect(human).toMatch(new RegExp(`^\\* ${good}  `, 'm'));
    expect(human).toMatch(
      /^ {4}discarded by data-scientist@studio\.example at \S+: test export, never production data$/m,
    );
    expect(human).toMatch(
      new RegExp(
        `^ {2}\\S+  use-baseline\\s+${good} \\(was ${bad}\\)  by ${USER}: the second file was a test export$`,
        'm',
      ),
    );
    expect(human).toMatch(
      /^ {2}\S+ {2}discard-batch\s+monitoring\/churn\/batches\/\S+-day 1\.csv {2}by \S+: export job dropped half the values$/m,
    );
  });
});
