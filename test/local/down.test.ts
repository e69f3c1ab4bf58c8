import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRunning } from '../../local/process-info.js';
import { runCli } from '../support/cli.js';
import { type CliProcess, dynamoJvmsOf, killLeftovers, spawnCli, waitUntil } from '../support/processes.js';

const UP = /mlcycle local stack is up/;

/** The parent pid of `pid` (Linux /proc): the JVM's is its watchdog. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('mlcycle down', () => {
  let dir: string;
  let dataDir: string;
  const started: CliProcess[] = [];
  const others: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-down-'));
    dataDir = join(dir, 'dynamodb');
  });
  afterEach(() => {
    for (const cli of started.splice(0)) killLeftovers(dir, cli);
    for (const child of others.splice(0)) child.kill('SIGKILL');
    killLeftovers(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  const up = async () => {
    const cli = spawnCli(dir, ['up', '--port', '0']);
    started.push(cli);
    await cli.waitForStdout(UP, 120_000);
    return cli;
  };
  const down = (...args: string[]) => runCli(dir, ['down', ...args]);

  it('says so and exits 0 when nothing runs', async () => {
    const run = await down();
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(`no local stack runs from ${dir}; nothing to stop`);
  });

  it('stops a running up cleanly: the process, its JVM and endpoints.json', {
    timeout: 180_000,
  }, async () => {
    const stack = await up();
    expect(dynamoJvmsOf(dataDir)).toHaveLength(1);
    const run = await down();
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(`stopped the local stack in ${dir} (pid ${stack.child.pid})`);
    expect(await stack.exited).toBe(0);
    expect(dynamoJvmsOf(dataDir)).toEqual([]);
    expect(existsSync(join(dir, 'endpoints.json'))).toBe(false);
  });

  it('kills a stack that does not stop within --timeout, and its JVM goes too', {
    timeout: 180_000,
  }, async () => {
    const stack = await up();
    // A stopped process cannot act on SIGTERM: the stand-in for a hung `up`.
    stack.child.kill('SIGSTOP');
    const run = await down('--timeout', '1');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`(pid ${stack.child.pid}) did not stop within 1 s; killed it`);
    expect(await stack.exited).toBeNull();
    await waitUntil(() => dynamoJvmsOf(dataDir).length === 0, 30_000, 'no JVM left');
    expect(existsSync(join(dir, 'endpoints.json'))).toBe(false);
  });

  it('cleans up after a killed run: the orphaned JVM and endpoints.json', { timeout: 180_000 }, async () => {
    const stack = await up();
    const [jvm] = dynamoJvmsOf(dataDir);
    if (jvm === undefined) throw new Error('no JVM found');
    process.kill(parentOf(jvm), 'SIGKILL'); // the watchdog first, so nothing else can stop the JVM
    stack.child.kill('SIGKILL');
    await stack.exited;
    const run = await down();
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      `no local stack runs from ${dir}`,
      `removed a stale ${dir}/endpoints.json (pid ${stack.child.pid} is not a running mlcycle)`,
      `stopped DynamoDB Local (pid ${jvm}) left running by a killed run`,
    ]);
    expect(isRunning(jvm)).toBe(false);
    expect(existsSync(join(dir, 'endpoints.json'))).toBe(false);
  });

  it('never signals a pid endpoints.json names that is not mlcycle (reused after a crash)', async () => {
    const stranger = spawn('sleep', ['120'], { stdio: 'ignore' });
    others.push(stranger);
    writeFileSync(join(dir, 'endpoints.json'), JSON.stringify({ pid: stranger.pid }));
    const run = await down();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `removed a stale ${dir}/endpoints.json (pid ${stranger.pid} is not a running mlcycle)`,
    );
    expect(stranger.pid !== undefined && isRunning(stranger.pid)).toBe(true);
    expect(existsSync(join(dir, 'endpoints.json'))).toBe(false);
  });

  it('refuses a --timeout that is not a positive number, in one line', async () => {
    const run = await down('--timeout', 'soon');
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('mlcycle: --timeout "soon" is not a positive number of seconds');
  });
});
