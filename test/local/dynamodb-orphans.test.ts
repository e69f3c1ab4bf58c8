import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoLocal, startDynamoLocal } from '../../local/emulators/dynamodb.js';
import { PID_FILE, stopOrphanedDynamoLocal } from '../../local/emulators/dynamodb-process.js';
import { isRunning } from '../../local/process-info.js';
import { startLocalStack } from '../../local/runtime.js';
import { testConfig } from '../support/local-stack.js';
import { dynamoJvmsOf, waitUntil } from '../support/processes.js';

describe('stopOrphanedDynamoLocal', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'mlcycle-orphans-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const dataDirWith = (name: string, record: string) => {
    const dataDir = join(root, name, 'dynamodb');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, PID_FILE), record);
    return dataDir;
  };

  it('refuses while the process that started the JVM is alive, and leaves the JVM and its folder alone', async () => {
    const dataDir = join(root, 'live', 'dynamodb');
    let dynamo: DynamoLocal | undefined;
    try {
      dynamo = await startDynamoLocal({ dataDir });
      const [jvm] = dynamoJvmsOf(dataDir);
      await expect(stopOrphanedDynamoLocal(dataDir)).rejects.toThrow(
        `the local state in ${join(root, 'live')} is in use by process ${process.pid}`,
      );
      expect(jvm !== undefined && isRunning(jvm)).toBe(true);
      // Nor may a fresh start wipe the folder under it.
      writeFileSync(join(root, 'live', 'keep.txt'), 'state');
      const fresh = startLocalStack({ config: testConfig(), dir: join(root, 'live'), fresh: true });
      await expect(fresh).rejects.toThrow(`is in use by process ${process.pid}`);
      expect(existsSync(join(root, 'live', 'keep.txt'))).toBe(true);
    } finally {
      await dynamo?.stop();
    }
    expect(dynamoJvmsOf(dataDir)).toEqual([]);
    expect(existsSync(join(dataDir, PID_FILE))).toBe(false);
  });

  it('stops a JVM whose watchdog was killed, though the process that started it lives on', async () => {
    const dataDir = join(root, 'orphan', 'dynamodb');
    const dynamo = await startDynamoLocal({ dataDir });
    const [jvm] = dynamoJvmsOf(dataDir);
    try {
      if (jvm === undefined) throw new Error('no JVM found');
      const { watchdog } = JSON.parse(readFileSync(join(dataDir, PID_FILE), 'utf8')) as { watchdog: number };
      process.kill(watchdog, 'SIGKILL');
      await waitUntil(() => !isRunning(watchdog), 10_000, 'the watchdog to die');
      expect(await stopOrphanedDynamoLocal(dataDir)).toBe(jvm);
      expect(isRunning(jvm)).toBe(false);
    } finally {
      // Nothing else would stop it if this test failed: its watchdog is gone.
      if (jvm !== undefined && isRunning(jvm)) process.kill(jvm, 'SIGKILL');
      await dynamo.stop();
    }
  });

  it('never signals a pid the OS has given to another program (here: this test process)', async () => {
    const dataDir = dataDirWith(
      'recycled',
      JSON.stringify({ owner: 999_999_999, watchdog: 1, jvm: process.pid }),
    );
    expect(await stopOrphanedDynamoLocal(dataDir)).toBeUndefined();
    expect(existsSync(join(dataDir, PID_FILE))).toBe(false);
  });

  it('drops a half-written pid file', async () => {
    const dataDir = dataDirWith('torn', '{"owner": 12');
    expect(await stopOrphanedDynamoLocal(dataDir)).toBeUndefined();
    expect(existsSync(join(dataDir, PID_FILE))).toBe(false);
  });
});
