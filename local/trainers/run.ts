import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { REQUIRED_ENV } from '../../lambdas/contracts/trainer.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { type LoadedTrainer, loadTrainer } from './manifest.js';
import { discoverRuntime, type HostRuntime, TrainerRuntimeError } from './runtime.js';

export type TrainerMode = 'train' | 'predict';

export interface RunTrainerOptions {
  /** The trainer folder (holding trainer.yaml), or one already loaded. */
  readonly trainerDir: string | LoadedTrainer;
  readonly mode: TrainerMode;
  /** The contract environment (trainModeEnv / predictModeEnv); nothing else of ours leaks in. */
  readonly env: Readonly<Record<string, string>>;
  /** Where stdout and stderr go, appended (a retry's attempts share one log). */
  readonly logFile: string;
  /** Killed (SIGTERM, then SIGKILL 10 s later) past this, as Batch ends an attempt. */
  readonly timeoutMs?: number;
  /** Aborting kills the process with `killSignal` (default SIGTERM). */
  readonly signal?: AbortSignal;
  readonly killSignal?: NodeJS.Signals;
  /** Each line the process prints, as it prints it. */
  readonly onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Host environment for discovery and the child's PATH/HOME/locale (default: process.env). */
  readonly hostEnv?: NodeJS.ProcessEnv;
}

export interface TrainerRunResult {
  /** The process's exit code; null when a signal ended it. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last non-empty line it wrote to stderr: the contract's "why" on failure. */
  readonly lastStderrLine: string;
  readonly logFile: string;
  readonly argv: readonly string[];
  readonly runtime: HostRuntime;
  readonly durationMs: number;
  readonly timedOut: boolean;
}

/**
 * Host variables a process needs to start and format text, and the thread settings of the
 * numeric libraries when the user chose them; everything else stays out.
 */
const HOST_PASSTHROUGH = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'OMP_NUM_THREADS',
  'OMP_WAIT_POLICY',
  'MKL_NUM_THREADS',
  'OPENBLAS_NUM_THREADS',
] as const;
const KILL_GRACE_MS = 10_000;

/**
 * Runs a trainer's train or predict entry on this machine, as its Batch container would: the
 * declared argv with the runtime word (`python3`, `node`) replaced by the interpreter discovery
 * found, in the trainer folder, with the contract environment. Output streams to `logFile`.
 *
 * Returns how the process ended; a non-zero exit is the caller's to judge (the contract's
 * "failed, with one line on stderr saying why" is `lastStderrLine`). Throws only when the entry
 * cannot start: a bad trainer.yaml, a missing contract variable (ValidationError), or no
 * interpreter with the required modules (TrainerRuntimeError, one line naming what to install).
 */
export async function runTrainerLocally(options: RunTrainerOptions): Promise<TrainerRunResult> {
  const trainer =
    typeof options.trainerDir === 'string' ? loadTrainer(options.trainerDir) : options.trainerDir;
  const { manifest } = trainer;
  const missing = REQUIRED_ENV[options.mode].filter((name) => !options.env[name]);
  if (missing.length) {
    throw new ValidationError(
      `${trainer.label} ${options.mode}: the contract environment lacks ${missing.join(', ')}`,
    );
  }
  if (!manifest.local) {
    throw new TrainerRuntimeError(
      `trainer ${trainer.label} declares no local: runtime, so it runs only in its container (Docker)`,
    );
  }
  const hostEnv = options.hostEnv ?? process.env;
  const runtime = await discoverRuntime({
    runtime: manifest.local.runtime,
    requires: manifest.local.requires,
    trainerLabel: trainer.label,
    trainerDir: trainer.dir,
    env: hostEnv,
  });
  const [, ...args] = manifest[options.mode];
  const argv = [runtime.executable, ...args];

  const childEnv: NodeJS.ProcessEnv = {};
  for (const name of HOST_PASSTHROUGH) if (hostEnv[name] !== undefined) childEnv[name] = hostEnv[name];
  // OpenMP threads (scikit-learn, XGBoost, PyTorch on CPU) busy-wait between parallel regions by
  // default; on a laptop or CI machine shared with other work that burns several times the CPU
  // the training needs (measured: 7.5 s instead of 0.5 s for sklearn-ltv). Passive waiting keeps
  // the parallelism without the spinning, unless the user set a policy.
  childEnv.OMP_WAIT_POLICY ??= 'PASSIVE';
  // Unbuffered output so the log is live; no __pycache__ written into the trainer folder.
  Object.assign(childEnv, { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' }, options.env);

  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  log.write(
    `--- mlcycle ${options.mode} ${new Date().toISOString()}: ${argv.join(' ')} (in ${trainer.label})\n`,
  );

  const started = Date.now();
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: trainer.dir,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lastStderrLine = '';
  let timedOut = false;

  const lineSplitter = (stream: 'stdout' | 'stderr') => {
    let partial = '';
    return {
      push(chunk: Buffer) {
        log.write(chunk);
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) emit(line);
      },
      end() {
        if (partial) emit(partial);
        partial = '';
      },
    };
    function emit(raw: string) {
      const line = raw.replace(/\r$/, '');
      if (!line.trim()) return;
      if (stream === 'stderr') lastStderrLine = line.trim();
      options.onOutput?.(line, stream);
    }
  };
  const out = lineSplitter('stdout');
  const err = lineSplitter('stderr');
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));

  let killTimer: NodeJS.Timeout | undefined;
  const kill = (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    if (signal !== 'SIGKILL') killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  };
  const timeout = options.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        kill('SIGTERM');
      }, options.timeoutMs)
    : undefined;
  const onAbort = () => kill(options.killSignal ?? 'SIGTERM');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
    child.once('error', (error) =>
      fail(new TrainerRuntimeError(`${trainer.label}: cannot start ${argv[0]}: ${error.message}`)),
    );
    child.once('close', (code, signal) => done({ code, signal }));
  }).finally(() => {
    clearTimeout(timeout);
    clearTimeout(killTimer);
    options.signal?.removeEventListener('abort', onAbort);
  });
  out.end();
  err.end();
  const how = ended.signal ? `killed by ${ended.signal}` : `exit ${ended.code}`;
  log.write(
    `--- mlcycle ${options.mode}: ${how}${timedOut ? ' (timed out)' : ''} after ${Date.now() - started} ms\n`,
  );
  await new Promise<void>((done) => log.end(done));
  return {
    exitCode: ended.code,
    signal: ended.signal,
    lastStderrLine,
    logFile: options.logFile,
    argv,
    runtime,
    durationMs: Date.now() - started,
    timedOut,
  };
}
