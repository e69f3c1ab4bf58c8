/**
 * `npm run bench:drift [-- --big] [-- --workers N] [-- --repeat N]`: profile and drift
 * throughput against two floors measured in the same run over the same bytes. Each measurement
 * runs in a child process of its own, so its peak RSS is its own; each is repeated (default 3,
 * 1 with --big) and the median reported. Data: seeded CSVs from generate-monitoring-csv.ts in
 * bench/data/ (gitignored; reused when present): 1,000,000 rows × 20 numeric + 2 categorical
 * (≈ 210 MB), and with --big a 10× one. Figures are wall-clock on a shared machine: noisy.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileSource } from '../lambdas/adapters/drift/parallel-profile.js';
import { workerScript } from '../lambdas/adapters/drift/profile-pool.js';
import type { RangeSource } from '../lambdas/adapters/drift/range-reader.js';
import { compareProfiles } from '../lambdas/domain/drift/compare.js';
import type { ColumnKind, Profile } from '../lambdas/domain/profile/profile.js';
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

/*
 * The floors are plain functions called per chunk, with their state in locals: a loop in the
 * async function itself keeps variables live across `await`, and V8 then boxes every update of
 * a double (a float floor written that way measured 2.7× slower, which made it no floor).
 */

/** Floor 1: count newlines, a byte at a time, in JS. */
function countNewlines(buf: Buffer): number {
  let lines = 0;
  for (let i = 0; i < buf.length; i++) if (buf[i] === 10) lines++;
  return lines;
}

async function newlineFloor(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of chunks(path)) lines += countNewlines(chunk as Buffer);
  return lines;
}

/** Floor 2's state between chunks: [mantissa, scale, fraction, negative, rows, checksum]. */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Floor 2: parse every field as a decimal number (digits, sign, point), nothing else. */
function parseFields(buf: Buffer, s: Float64Array): void {
  let mantissa = s[0] as number;
  let scale = s[1] as number;
  let fraction = s[2] === 1;
  let negative = s[3] === 1;
  let rows = s[4] as number;
  let checksum = s[5] as number;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i] as number;
    if (b >= 48 && b <= 57) {
      mantissa = mantissa * 10 + (b - 48);
      if (fraction) scale++;
    } else if (b === 46) fraction = true;
    else if (b === 45) negative = true;
    else if (b === 44 || b === 10) {
      const x = mantissa / (POW10[scale] as number);
      checksum += negative ? -x : x;
      mantissa = 0;
      scale = 0;
      fraction = false;
      negative = false;
      if (b === 10) rows++;
    }
  }
  s.set([mantissa, scale, fraction ? 1 : 0, negative ? 1 : 0, rows, checksum]);
}

async function floatParseFloor(path: string): Promise<{ rows: number; checksum: number }> {
  const state = new Float64Array(6);
  for await (const chunk of chunks(path)) parseFields(chunk as Buffer, state);
  return { rows: state[4] as number, checksum: state[5] as number };
}

function fileSource(path: string): RangeSource {
  return { kind: 'file', path, size: statSync(path).size };
}

/** Profiles a file and says how: stages of the byte-range path, size of the profile. */
async function profileFile(
  file: string,
  workers: number,
  kinds?: Record<string, ColumnKind>,
): Promise<{ profile: Profile; note: string }> {
  const stages: string[] = [];
  const profile = await profileSource(
    fileSource(file),
    { format: 'csv', ...(kinds ? { kinds } : {}) },
    { workers, onStage: (stage, ms) => stages.push(`${stage} ${(ms / 1000).toFixed(2)} s`) },
  );
  const size = `profile JSON ${(JSON.stringify(profile).length / 1024).toFixed(0)} KB`;
  return { profile, note: stages.length ? `${stages.join(', ')}; ${size}` : size };
}

/**
 * One measurement, in a process of its own. profile-1: one thread. profile: the worker threads
 * cold (a fresh process starts them and V8 compiles the reader in each). profile-warm: the same
 * after one profile of the other file, as a warm Lambda container or `mlcycle up` runs. drift:
 * a batch profiled (warm: the baseline's profile came first, untimed, as a stored baseline
 * would) and compared with the baseline.
 */
async function runPhase(
  phase: string,
  file: string,
  workers: number,
  otherFile: string,
): Promise<Measurement> {
  const bytes = statSync(file).size;
  // Bundling the worker script is the embedded default's one-off (the Lambda ships it bundled):
  // done before the clock starts. Starting the workers is timed.
  if (phase !== 'newline-floor' && phase !== 'float-floor') workerScript();
  let warmUp: Profile | undefined;
  if (phase === 'profile-warm' || phase === 'drift') warmUp = (await profileFile(otherFile, workers)).profile;
  const t0 = performance.now();
  let rows = 0;
  let note: string | undefined;
  if (phase === 'newline-floor') rows = (await newlineFloor(file)) - 1;
  else if (phase === 'float-floor') rows = (await floatParseFloor(file)).rows - 1;
  else if (phase === 'drift' && warmUp) {
    const baseline = warmUp;
    const kinds = Object.fromEntries(Object.entries(baseline.columns).map(([c, p]) => [c, p.kind]));
    const batch = await profileFile(file, workers, kinds);
    const result = compareProfiles(baseline, batch.profile, {
      thresholds: { low: 0.1, medium: 0.2, high: 0.3, critical: 0.5 },
      minSampleSize: 200,
    });
    rows = batch.profile.rows;
    const drifted = result.features
      .filter((f) => f.severity !== 'none')
      .map((f) => `${f.name}:${f.severity}`);
    note = `${batch.note}; overall ${result.overallSeverity}, drifted ${drifted.join(' ')}`;
  } else {
    const run = await profileFile(file, phase === 'profile-1' ? 1 : workers);
    rows = run.profile.rows;
    note = run.note;
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

function child(phase: string, file: string, workers: number, otherFile: string): Measurement {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--phase', phase, '--file', file];
  args.push('--workers', String(workers), '--other', otherFile);
  const out = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (out.status !== 0) throw new Error(`${phase} on ${file} failed:\n${out.stderr}`);
  const line = out.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Measurement;
}

async function main(): Promise<void> {
  const phase = arg('--phase');
  const workers = Number(arg('--workers') ?? availableParallelism());
  const repeat = Number(arg('--repeat') ?? (process.argv.includes('--big') ? 1 : 3));
  if (phase) {
    const file = arg('--file') ?? '';
    console.log(JSON.stringify(await runPhase(phase, file, workers, arg('--other') ?? file)));
    return;
  }
  const sizes: { label: string; rows: number }[] = [{ label: '1m', rows: 1_000_000 }];
  if (process.argv.includes('--big')) sizes.push({ label: '10m', rows: 10_000_000 });
  console.log(
    `node ${process.version}, ${availableParallelism()} CPUs available, profiling with ${workers} worker threads, median of ${repeat} runs per phase`,
  );
  for (const { label, rows } of sizes) {
    const baseline = join(DATA, `baseline-${label}.csv`);
    const batch = join(DATA, `batch-${label}.csv`);
    const t = performance.now();
    await ensureBenchCsv(baseline, { rows, seed: 1, shifted: false });
    await ensureBenchCsv(batch, { rows, seed: 2, shifted: true });
    const genSeconds = (performance.now() - t) / 1000;
    if (genSeconds > 1) console.log(`generated ${label} files in ${genSeconds.toFixed(0)} s`);
    // each phase `repeat` times, interleaved so a noisy minute hits all phases alike; the median
    // run by time is reported, with the highest peak RSS seen
    const phases: [string, string, string][] = [
      ['newline-floor', batch, baseline],
      ['float-floor', batch, baseline],
      ['profile-1', baseline, batch],
      ['profile', baseline, batch],
      ['profile-warm', baseline, batch],
      ['drift', batch, baseline],
    ];
    const runs: Measurement[][] = phases.map(() => []);
    for (let r = 0; r < repeat; r++) {
      phases.forEach(([phase, file, other], i) => {
        (runs[i] as Measurement[]).push(child(phase, file, workers, other));
      });
    }
    const results = runs.map((ms) => {
      const sorted = [...ms].sort((a, b) => a.seconds - b.seconds);
      const median = sorted[Math.floor((sorted.length - 1) / 2)] as Measurement;
      return { ...median, peakRssMb: Math.max(...ms.map((m) => m.peakRssMb)) };
    });
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
