import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { loadConfig } from '../../lambdas/adapters/config-file.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import { DEFAULT_CONFIG as CONFIG, errorLines, ROOT, runCli } from '../support/cli.js';
import { actingCharacters } from '../support/control-chars.js';

const ESC = '\u001b';

/**
 * A reason stored in the ledger (it came with a promotion) that tries to act on the terminal of
 * whoever reads the history: clear the screen, overwrite the line with CR, fake a line, flip the
 * text direction. `mlcycle` in a child process must show it, not obey it.
 */
describe('mlcycle prints user text without control characters', () => {
  let dir: string;
  let stack: LocalStack;
  const reason = `retrain${ESC}[2J${ESC}[H\rapproved by ml-lead\nstaging 9 2030-01-01 promote - 9.9.9\u202Eeulav`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-cli-ctl-'));
    stack = await startLocalStack({ config: loadConfig(CONFIG), dir, root: ROOT, fresh: true });
    const store = new Registry(createDocumentClient(stack.dynamo.client), stack.endpoints.tableName);
    await store.versions.registerVersion({
      model: 'churn',
      bump: 'minor',
      metrics: { auc: 0.8 },
      lineage: {
        parentVersion: null,
        datasetUri: '',
        datasetSha256: '',
        codeVersion: 'test',
        runId: 'run-1',
        hyperparameters: {},
        framework: 'test',
        artifactUri: `s3://${stack.endpoints.bucket}/runs/churn/run-1/model.json`,
        artifactSha256: 'a'.repeat(64),
        author: 'data-scientist@studio.example',
      },
    });
    await store.stages.promote({
      model: 'churn',
      stage: 'staging',
      version: '1.0.0',
      actor: 'data-scientist@studio.example',
      reason,
      action: 'promote',
    });
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(dir, args, { config: CONFIG });

  it('the history table shows the reason on its own row, neutralised', async () => {
    const r = await cli('models', 'history', 'churn', '--stage', 'staging');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(ESC);
    expect(actingCharacters(r.stdout)).toEqual([]);
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(3); // header, rule, the one entry: the reason added no line
    expect(rows[2]).toMatch(
      /^staging\s+1\s+\S+\s+promote\s+-\s+1\.0\.0\s+data-scientist@studio\.example\s+retrain/,
    );
    expect(rows[2]).toContain('approved by ml-lead staging 9');
  });

  it('--json keeps the reason exactly as stored', async () => {
    const r = await cli('models', 'history', 'churn', '--stage', 'staging', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(actingCharacters(r.stdout)).toEqual([]);
    const [entry] = JSON.parse(r.stdout) as { reason: string }[];
    expect(entry?.reason).toBe(reason);
  });

  it('an error line quoting a typed name carries no control character', async () => {
    const r = await cli('models', 'show', `churn${ESC}]0;owned${ESC}\\`, '1.0.0');
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain(ESC);
    expect(errorLines(r)).toEqual([expect.stringMatching(/unknown model "churn\uFFFD\]0;owned\uFFFD\\"/)]);
  });
});
