import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/adapters/config-file.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../local/data/churn.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import { DEFAULT_CONFIG as CONFIG, errorLines, ROOT, runCli } from '../support/cli.js';

/**
 * `mlcycle datasets upload` as a user runs it (a child process against a local stack): a file a
 * run could not train on is refused before anything is uploaded, and a dataset of the same name
 * is never silently replaced (issue 12).
 */
describe('mlcycle datasets upload checks the file first', () => {
  let dir: string;
  let data: string;
  let stack: LocalStack;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-cli-datasets-'));
    data = mkdtempSync(join(tmpdir(), 'mlcycle-cli-datasets-data-'));
    stack = await startLocalStack({ config: loadConfig(CONFIG), dir, root: ROOT, fresh: true });
    const good = churnCsv({ rows: 200, seed: 1 });
    const [header = ''] = good.split('\n');
    let x = 11;
    const files: Record<string, string | Buffer> = {
      'players.csv': good,
      'players-v2.csv': churnCsv({ rows: 300, seed: 2 }),
      'empty.csv': '',
      'header-only.csv': `${header}\n`,
      'no-target.csv': good.replace(/^[^\n]*/, (h) => h.replace('churned', 'label')),
      'utf16.csv': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(good, 'utf16le')]),
      'noise.csv': Buffer.from(
        Array.from({ length: 20_000 }, () => {
          x = (x * 1103515245 + 12345) % 2 ** 31;
          return (x >> 16) & 255;
        }),
      ),
    };
    for (const [name, body] of Object.entries(files)) writeFileSync(join(data, name), body);
  });
  afterAll(async () => {
    await stack?.stop();
    for (const d of [dir, data]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(dir, args, { config: CONFIG });
  const objects = () => new S3Objects(stack.s3.client);
  const datasets = async () =>
    (await objects().list(stack.endpoints.bucket, 'datasets/churn/')).map((o) => `${o.key}:${o.size}`).sort();

  async function refused(file: string, message: RegExp, ...flags: string[]) {
    const before = await datasets();
    const r = await cli('datasets', 'upload', 'churn', join(data, file), ...flags);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLines(r)).toEqual([expect.stringMatching(message)]);
    expect(await datasets()).toEqual(before);
  }

  it('refuses an empty, header-only, target-less, UTF-16 or binary file, naming why', async () => {
    await refused('empty.csv', /empty\.csv was not uploaded: it is empty$/);
    await refused('header-only.csv', /header-only\.csv was not uploaded: it has a header but no data rows$/);
    await refused(
      'no-target.csv',
      /no-target\.csv was not uploaded: it has no target column "churned" \(its columns: .*label/,
    );
    await refused('utf16.csv', /utf16\.csv was not uploaded: it is UTF-16/);
    await refused('noise.csv', /noise\.csv was not uploaded: it (has NUL bytes|is not valid UTF-8)/);
  });

  it('uploads a good file, and never silently replaces one of the same name', async () => {
    const first = await cli('datasets', 'upload', 'churn', join(data, 'players.csv'));
    expect(first.code, first.stderr).toBe(0);
    const key = 'datasets/churn/players.csv';
    const original = await objects().getText({ bucket: stack.endpoints.bucket, key });
    writeFileSync(join(data, 'players.csv'), churnCsv({ rows: 250, seed: 9 }));
    await refused(
      'players.csv',
      /datasets\/churn\/players\.csv already exists; rename the file, or pass --replace/,
    );
    expect(await objects().getText({ bucket: stack.endpoints.bucket, key })).toBe(original);
    const replaced = await cli('datasets', 'upload', 'churn', join(data, 'players.csv'), '--replace');
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(await objects().getText({ bucket: stack.endpoints.bucket, key })).not.toBe(original);
  });

  it('datasets list shows them newest first, marking the one the next run trains on', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // S3 times are to the second
    const r0 = await cli('datasets', 'upload', 'churn', join(data, 'players-v2.csv'));
    expect(r0.code, r0.stderr).toBe(0);
    const r = await cli('datasets', 'list', 'churn');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/datasets\/churn\/players-v2\.csv {2}← the next run trains on this$/);
    expect(lines[1]).toMatch(/datasets\/churn\/players\.csv$/);
  });
});
