import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDynamoJvmOf } from '../../local/emulators/dynamodb-process.js';
import { isRunning } from '../../local/process-info.js';
import { DEFAULT_CONFIG, ROOT } from './cli.js';

/** Pids of every DynamoDB Local JVM whose database folder is `dataDir` (Linux: reads /proc). */
export function dynamoJvmsOf(dataDir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => isDynamoJvmOf(pid, dataDir) && isRunning(pid));
}

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs` (a deadline, not a timing). */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A long-running `mlcycle` child process (e.g. `up`), with what it printed so far. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly output: () => { stdout: string; stderr: string };
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Waits until stdout matches `pattern`; fails with what it printed if it exits first or the deadline passes. */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<void>;
}

export function spawnCli(dir: string, args: readonly string[]): CliProcess {
  const child = spawn(process.execPath, ['bin/mlcycle.js', '--dir', dir, '-c', DEFAULT_CONFIG, ...args], {
    cwd: ROOT,
    env: { ...process.env, MLCYCLE_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (c) => {
      code = c;
      resolve(c);
    }),
  );
  return {
    child,
    output: () => ({ stdout, stderr }),
    exited,
    async waitForStdout(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stdout)) {
        if (code !== undefined || Date.now() > deadline) {
          throw new Error(
            `mlcycle ${args.join(' ')} ${code !== undefined ? `exited (${code})` : 'is still silent'} before printing ${pattern}:\n${stdout}\n${stderr}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** Kills what a test may have left behind: the child, and any JVM of its data folder. */
export function killLeftovers(dir: string, cli?: CliProcess): void {
  if (cli && cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
  for (const pid of dynamoJvmsOf(join(dir, 'dynamodb'))) process.kill(pid, 'SIGKILL');
}
