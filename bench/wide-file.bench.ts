/**
 * `npm run bench:wide`: peak RSS of refusing a file far wider than monitoring.maxColumns (issue
 * 12: a 100k-column × 300-row CSV grew the process to 11.9 GB with no record). Each case runs in
 * a child process of its own, so its peak RSS is its own: it writes a seeded CSV of N columns ×
 * 300 rows to a temporary file, then asks profileObject (the adapter both the baseline and the
 * drift functions use) to profile it with the default cap, through an S3Objects whose object is
 * that file. The refusal is checked on the first megabyte, so RSS should not grow with N. The
 * figure is the memory bound the issue asks for; it is printed, never asserted on time.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileObject } from '../lambdas/adapters/drift/object-profile.js';
import type { S3Objects } from '../lambdas/adapters/s3-objects.js';
import { monitoringSchema } from '../lambdas/contracts/config-operations.js';

const ROWS = 300;

async function writeWide(path: string, columns: number): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string) =>
    new Promise<void>((resolve) => (out.write(s) ? resolve() : out.once('drain', () => resolve())));
  await write(`${Array.from({ length: columns }, (_, i) => `c${i}`).join(',')}\n`);
  for (let r = 0; r < ROWS; r++) {
    await write(`${Array.from({ length: columns }, (_, i) => (r * 31 + i * 17) % 97).join(',')}\n`);
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

async function child(columns: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-wide-'));
  const path = join(dir, 'wide.csv');
  try {
    await writeWide(path, columns);
    const rssBefore = process.resourceUsage().maxRSS;
    const objects = { getStream: async () => createReadStream(path) } as unknown as S3Objects;
    const cap = monitoringSchema.parse({}).maxColumns;
    let outcome = 'profiled (not refused!)';
    try {
      await profileObject(
        objects,
        { bucket: 'bench', key: 'monitoring/m/batches/wide.csv' },
        {},
        { workers: 0 },
        cap,
      );
    } catch (err) {
      outcome = `refused: ${(err as Error).message.slice(0, 90)}…`;
    }
    const mb = (kb: number) => (kb / 1024).toFixed(0);
    console.log(
      JSON.stringify({
        columns,
        rows: ROWS,
        fileMb: (statSync(path).size / 1e6).toFixed(1),
        peakRssMb: mb(process.resourceUsage().maxRSS),
        rssBeforeCheckMb: mb(rssBefore),
        outcome,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const arg = process.argv.indexOf('--child');
if (arg >= 0) await child(Number(process.argv[arg + 1]));
else {
  console.log(
    '| columns | rows | file MB | peak RSS MB before the check (writing the file) | peak RSS MB after | outcome |\n|---:|---:|---:|---:|---:|---|',
  );
  for (const columns of [10_000, 100_000]) {
    const run = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--child', String(columns)],
      {
        encoding: 'utf8',
      },
    );
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    if (run.status !== 0 || !line.startsWith('{')) {
      console.error(run.stderr);
      process.exit(1);
    }
    const m = JSON.parse(line);
    console.log(
      `| ${m.columns} | ${m.rows} | ${m.fileMb} | ${m.rssBeforeCheckMb} | ${m.peakRssMb} | ${m.outcome} |`,
    );
  }
}
