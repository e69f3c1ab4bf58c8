/**
 * `npm run bench:drift [-- --big] [-- --workers N]`: profile and drift throughput against two
 * floors measured in the same run over the same bytes. Each measurement runs in a child process
 * of its own, so its peak RSS is its own. Data: seeded CSVs from generate-monitoring-csv.ts in
 * bench/data/ (gitignored; reused when present): 1,000,000 rows × 20 numeric + 2 categorical
 * (≈ 210 MB), and with --big a 10× one. Figures are wall-clock on a shared machine: noisy.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileStream } from '../lambdas/adapters/drift/parallel-profile.js';
import { compareProfiles } from '../lambdas/domain/drift/compare.js';
import type { Profile } from '../lambdas/domain/profile/profile.js';
import { ensureBenchCsv } from './generate-monitoring-csv.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const DATA = join(HERE, 'data');
const READ_CHUNK = 1 << 20;

interface Measurement {
  phase: string;
  file: string;
  bytes: number;
  rows: number;
  seconds: number;
  peakRssMb: number;
  note?: string;
}

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

function chunks(path: string): AsyncIterable<Buffer> {
  return createReadStream(path, { highWaterMark: READ_CHUNK });
}

/** Floor 1: count newlines, a byte at a time, in JS. */
async function newlineFloor(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of chunks(path)) {
    const buf = chunk as Buffer;
    for (let i = 0; i < buf.length; i++) if (buf[i] === 10) lines++;
  }
  return lines;
}

/** Floor 2: parse every field as a decimal number (digits, sign, point), nothing else. */
async function floatParseFloor(path: string): Promise<{ rows: number; checksum: number }> {
  let rows = 0;
  let checksum = 0;
  let mantissa = 0;
  let scale = 0;
  let fraction = false;
  let negative = false;
  for await (const chunk of chunks(path)) {
    const buf = chunk as Buffer;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i] as number;
      if (b >= 48 && b <= 57) {
        mantissa = mantissa * 10 + (b - 48);
        if (fraction) scale++;
      } else if (b === 46) fraction = true;
      else if (b === 45) negative = true;
      else if (b === 44 || b === 10) {
        const x = mantissa / 10 ** scale;
        checksum += negative ? -x : x;
        mantissa = 0;
        scale = 0;
        fraction = false;
        negative = false;
        if (b === 10) rows++;
      }
    }
  }
  return { rows, checksum };
}

async function runPhase(
  phase: string,
  file: string,
  workers: number,
  baselineFile?: string,
): Promise<Measurement> {
  const bytes = statSync(file).size;
  const t0 = performance.now();
  let rows = 0;
  let note: string | undefined;
  if (phase === 'newline-floor') rows = (await newlineFloor(file)) - 1;
  else if (phase === 'float-floor') rows = (await floatParseFloor(file)).rows - 1;
  else if (phase === 'profile') {
    const p = await profileStream(chunks(file), { format: 'csv' }, { workers });
    rows = p.rows;
    note = `${Object.keys(p.columns).length} columns, profile JSON ${(JSON.stringify(p).length / 1024).toFixed(0)} KB`;
  } else if (phase === 'drift') {
    // the baseline profile is made first (not timed): a drift check reads the stored profile
    const baseline: Profile = await profileStream(
      chunks(baselineFile ?? file),
      { format: 'csv' },
      { workers },
    );
    const kinds = Object.fromEntries(Object.entries(baseline.columns).map(([c, p]) => [c, p.kind]));
    const start = performance.now();
    const batch = await profileStream(chunks(file), { format: 'csv', kinds }, { workers });
    const result = compareProfiles(baseline, batch, {
      thresholds: { low: 0.1, medium: 0.2, high: 0.3, critical: 0.5 },
      minSampleSize: 200,
    });
    rows = batch.rows;
    const drifted = result.features
      .filter((f) => f.severity !== 'none')
      .map((f) => `${f.name}:${f.severity}`);
    note = `overall ${result.overallSeverity}, drifted ${drifted.join(' ')}`;
    const seconds = (performance.now() - start) / 1000;
    return { phase, file, bytes, rows, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024, note };
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    phase,
    file,
    bytes,
    rows,
    seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    ...(note ? { note } : {}),
  };
}

function child(phase: string, file: string, workers: number, baselineFile?: string): Measurement {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--phase', phase, '--file', file];
  args.push('--workers', String(workers));
  if (baselineFile) args.push('--baseline', baselineFile);
  const out = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (out.status !== 0) throw new Error(`${phase} on ${file} failed:\n${out.stderr}`);
  const line = out.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Measurement;
}

async function main(): Promise<void> {
  const phase = arg('--phase');
  const workers = Number(arg('--workers') ?? availableParallelism());
  if (phase) {
    const file = arg('--file') ?? '';
    console.log(JSON.stringify(await runPhase(phase, file, workers, arg('--baseline'))));
    return;
  }
  const sizes: { label: string; rows: number }[] = [{ label: '1m', rows: 1_000_000 }];
  if (process.argv.includes('--big')) sizes.push({ label: '10m', rows: 10_000_000 });
  console.log(
    `node ${process.version}, ${availableParallelism()} CPUs available, profiling with ${workers} worker threads`,
  );
  for (const { label, rows } of sizes) {
    const baseline = join(DATA, `baseline-${label}.csv`);
    const batch = join(DATA, `batch-${label}.csv`);
    const t = performance.now();
    await ensureBenchCsv(baseline, { rows, seed: 1, shifted: false });
    await ensureBenchCsv(batch, { rows, seed: 2, shifted: true });
    const genSeconds = (performance.now() - t) / 1000;
    if (genSeconds > 1) console.log(`generated ${label} files in ${genSeconds.toFixed(0)} s`);
    const results = [
      child('newline-floor', batch, workers),
      child('float-floor', batch, workers),
      child('profile', baseline, workers),
      child('drift', batch, workers, baseline),
    ];
    const newline = results[0] as Measurement;
    const float = results[1] as Measurement;
    const mbps = (m: Measurement) => m.bytes / 1e6 / m.seconds;
    console.log(`\n${rows.toLocaleString('en')} rows, ${(newline.bytes / 1e6).toFixed(0)} MB per file`);
    console.log('phase          MB/s   rows/s      peak RSS  vs newline  vs float   seconds');
    for (const m of results) {
      console.log(
        `${m.phase.padEnd(14)}${mbps(m).toFixed(0).padStart(5)}  ${(m.rows / m.seconds / 1e6).toFixed(2).padStart(5)} M/s  ${m.peakRssMb.toFixed(0).padStart(6)} MB  ${(mbps(m) / mbps(newline)).toFixed(2).padStart(9)}  ${(mbps(m) / mbps(float)).toFixed(2).padStart(8)}  ${m.seconds.toFixed(2).padStart(8)}${m.note ? `   ${m.note}` : ''}`,
      );
    }
  }
}

await main();
