import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DEFAULT_CONFIG = join(ROOT, 'mlcycle.config.yaml');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `mlcycle` as a user runs it: a child process (`node bin/mlcycle.js`) against the local stack
 * whose endpoints.json is in `dir`, acting as `user` (MLCYCLE_USER; `null` leaves it unset).
 * `env` adds variables to the child's environment; an `undefined` value removes one.
 */
export function runCli(
  dir: string,
  args: readonly string[],
  options: { config?: string; user?: string | null; env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    MLCYCLE_USER: options.user === null ? undefined : (options.user ?? 'data-scientist@studio.example'),
    MLCYCLE_DEBUG: '',
    ...options.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['bin/mlcycle.js', '--dir', dir, '-c', options.config ?? DEFAULT_CONFIG, ...args],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The error lines the CLI printed (`mlcycle: …`), without anything else on stderr. */
export const errorLines = (r: CliRun): string[] =>
  r.stderr.split('\n').filter((l) => l.startsWith('mlcycle:'));
