import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Whether `pid` names a live process. A zombie (exited, not yet reaped by its parent) is not:
 * signals cannot reach it and it holds no port or file.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // Linux: /proc/<pid>/stat is "pid (comm) STATE …"; comm may itself contain ") ".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc here (macOS): kill(0) is the best answer there is
  }
}

/**
 * The command line of `pid` (arguments joined by spaces), or undefined when it has exited or
 * this system cannot tell (no /proc and no `ps`). Used before signalling a pid read from a file,
 * so a pid the OS has since given to another program is left alone.
 */
export function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() || undefined;
  } catch {
    // not Linux, or gone
  }
  try {
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Sends `signal` to `pid`; false when it had already gone. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Waits (polling) until `pid` has exited or `timeoutMs` passed; true when it has exited. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
