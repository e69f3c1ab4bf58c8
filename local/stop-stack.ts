import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stopOrphanedDynamoLocal } from './emulators/dynamodb-process.js';
import { commandLineOf, isRunning, signal, waitForExit } from './process-info.js';
import { ENDPOINTS_FILE, type LocalEndpoints } from './runtime.js';

export interface StopResult {
  /** The stack's process, when one ran; `forced` when it ignored SIGTERM past the deadline. */
  readonly stopped?: { readonly pid: number; readonly forced: boolean };
  /** A DynamoDB Local JVM a killed run left behind, now stopped. */
  readonly orphanJvm?: number;
  /** endpoints.json named a process that was not running (or not mlcycle): removed. */
  readonly staleEndpoints?: { readonly pid: number };
}

/** How long a stack that got SIGKILL gets to disappear before `down` gives up. */
const KILL_WAIT_MS = 5000;

function readEndpoints(file: string): LocalEndpoints | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalEndpoints;
  } catch {
    return undefined; // torn by a run killed while writing it: nothing to trust but the file itself
  }
}

/**
 * The pid is the stack's only while it still runs mlcycle (the CLI entry `up` or a command
 * started from): after a crash the OS may have given it to something else, which must not be
 * signalled. Where the command line cannot be read (no /proc, no ps), the pid is trusted.
 */
function runsMlcycle(pid: number): boolean {
  const cmd = commandLineOf(pid);
  return cmd === undefined || cmd.includes('mlcycle');
}

/**
 * Stops the local stack that runs from `dir` (the process named in endpoints.json: SIGTERM,
 * then SIGKILL after `timeoutMs`), then anything a killed run left behind — DynamoDB Local's
 * JVM and endpoints.json. Returns what it did; an empty result means nothing ran.
 */
export async function stopLocalStack(dir: string, options: { timeoutMs: number }): Promise<StopResult> {
  const root = resolve(dir);
  const endpointsFile = join(root, ENDPOINTS_FILE);
  const result: { -readonly [K in keyof StopResult]: StopResult[K] } = {};

  const endpoints = existsSync(endpointsFile) ? readEndpoints(endpointsFile) : undefined;
  const pid = endpoints?.pid;
  if (pid !== undefined && pid !== process.pid && isRunning(pid) && runsMlcycle(pid)) {
    signal(pid, 'SIGTERM');
    let forced = false;
    if (!(await waitForExit(pid, options.timeoutMs))) {
      forced = true;
      signal(pid, 'SIGKILL');
      if (!(await waitForExit(pid, KILL_WAIT_MS))) {
        throw new Error(`the local stack (pid ${pid}) survived SIGKILL; stop it by hand`);
      }
    }
    result.stopped = { pid, forced };
  } else if (pid !== undefined) {
    result.staleEndpoints = { pid };
  }

  // After SIGKILL (or a run killed earlier) its JVM may still be going down, or orphaned.
  const orphan = await stopOrphanedDynamoLocal(join(root, 'dynamodb'));
  if (orphan !== undefined) result.orphanJvm = orphan;
  rmSync(endpointsFile, { force: true });
  return result;
}
