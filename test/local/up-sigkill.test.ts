import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRunning } from '../../local/process-info.js';
import { type CliProcess, dynamoJvmsOf, killLeftovers, spawnCli, waitUntil } from '../support/processes.js';

const UP = /mlcycle local stack is up/;

/** The parent pid of `pid` (Linux /proc): the JVM's is its watchdog. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('mlcycle up killed with SIGKILL', () => {
  let dir: string;
  let dataDir: string;
  const started: CliProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-sigkill-'));
    dataDir = join(dir, 'dynamodb');
  });
  afterEach(() => {
    for (const cli of started.splice(0)) killLeftovers(dir, cli);
    killLeftovers(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  const up = () => {
    const cli = spawnCli(dir, ['up', '--port', '0']);
    started.push(cli);
    return cli;
  };

  it('takes its DynamoDB Local JVM with it', { timeout: 180_000 }, async () => {
    const first = up();
    await first.waitForStdout(UP, 120_000);
    expect(dynamoJvmsOf(dataDir)).toHaveLength(1);
    first.child.kill('SIGKILL');
    await first.exited;
    await waitUntil(() => dynamoJvmsOf(dataDir).length === 0, 30_000, 'the JVM to end with its parent');
  });

  it('leaves no orphan for long even when the watchdog is killed too: the next up stops it', {
    timeout: 240_000,
  }, async () => {
    const first = up();
    await first.waitForStdout(UP, 120_000);
    const [jvm] = dynamoJvmsOf(dataDir);
    if (jvm === undefined) throw new Error('no JVM found for the first up');
    process.kill(parentOf(jvm), 'SIGKILL');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(isRunning(jvm)).toBe(true); // orphaned: nothing but the pid file knows about it now

    const second = up();
    await second.waitForStdout(UP, 120_000);
    expect(isRunning(jvm)).toBe(false);
    expect(dynamoJvmsOf(dataDir)).toHaveLength(1);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(dynamoJvmsOf(dataDir)).toEqual([]);
  });
});
