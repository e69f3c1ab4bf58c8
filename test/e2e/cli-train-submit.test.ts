import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { loadConfig } from '../../lambdas/adapters/config-file.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../local/data/churn.js';
import { DEPLOYED_CONFIG_FILE, type LocalStack, startLocalStack } from '../../local/runtime.js';
import { loadRunnableConfig } from '../../local/trainers/config-trainers.js';
import { DEFAULT_CONFIG as CONFIG, errorLines, ROOT, runCli } from '../support/cli.js';

/**
 * `mlcycle pipeline start --set` and `mlcycle train submit` as a user runs them (a child
 * process). A bad override or job file exits 2 with one line per problem naming key and value,
 * before any stack is started or contacted; a good one starts the governed run through the start
 * route, recorded with who asked and the overrides coerced to the trainer's declared types.
 */
const USER = 'data-scientist@studio.example';
const tmp = mkdtempSync(join(tmpdir(), 'mlcycle-train-submit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function jobFile(name: string, job: unknown): string {
  const file = join(tmp, name);
  writeFileSync(file, typeof job === 'string' ? job : stringify(job));
  return file;
}

/** Every line on stderr (a refusal with several problems is one `mlcycle:` error of several lines). */
const lines = (r: { stderr: string }) => r.stderr.split('\n').filter((l) => l.trim() !== '');

const valid = { model: 'churn', stage: 'staging', reason: 'smaller steps', hyperparameters: { epochs: 80 } };

describe('refused before anything starts (no stack)', () => {
  /** Runs the CLI with a --dir that does not exist: a started stack would create it. */
  async function refused(args: string[]): Promise<string[]> {
    const dir = join(tmp, `never-${Math.random().toString(36).slice(2)}`);
    const r = await runCli(dir, args, { user: USER });
    expect(r.code, r.stderr).toBe(2);
    expect(existsSync(dir), 'a stack was started').toBe(false);
    return lines(r);
  }

  it('pipeline start --set with a typo names model, key, value and the closest declared name', async () => {
    expect(await refused(['pipeline', 'start', 'churn', '--set', 'learningRat=0.1'])).toEqual([
      'mlcycle: model churn: --set learningRat="0.1": not a hyperparameter of containers/trainer; did you mean learningRate? ' +
        '(declared: learningRate, epochs, l2, batchSize, seed, schedule, earlyStoppingPatience)',
    ]);
  });

  it('pipeline start --set with a value of the wrong type, or without =, is refused', async () => {
    expect(await refused(['pipeline', 'start', '--model', 'churn', '--set', 'epochs=many'])).toEqual([
      'mlcycle: model churn: --set epochs="many": hyperparameter epochs: got "many": expected an integer in [1, 10000]',
    ]);
    expect(await refused(['pipeline', 'start', 'churn', '--set', 'epochs'])).toEqual([
      'mlcycle: --set "epochs": expected key=value with a hyperparameter name (letters, digits, underscores), e.g. --set learningRate=0.1',
    ]);
  });

  it('train submit refuses a bad manifest with one line per problem naming key and value', async () => {
    const bad = jobFile('bad.yaml', {
      model: 'churn',
      reason: '',
      stage: 'Staging',
      dataset: 'datasets/churn/x.csv',
      hyperparameters: { epochs: [80] },
      priority: 'high',
      wait: 'yes',
    });
    const problems = (await refused(['train', 'submit', bad])).map((l) => l.replace(/^mlcycle: /, ''));
    expect(problems).toHaveLength(6);
    expect(problems).toEqual(
      expect.arrayContaining([
        `${bad}: priority: got "high": Unrecognized key: "priority"`,
        `${bad}: stage: got "Staging": must be an environment name from the config`,
        `${bad}: dataset: got "datasets/churn/x.csv": must be the s3:// URI of a dataset object (s3://<bucket>/datasets/<model>/…)`,
        `${bad}: reason: got "": must say why this run (shown to approvers)`,
        `${bad}: hyperparameters.epochs: got [80]: Invalid input`,
        `${bad}: wait: got "yes": Invalid input: expected boolean, received string`,
      ]),
    );
  });

  it("train submit checks the manifest's hyperparameters against the trainer's trainer.yaml", async () => {
    const typo = jobFile('typo.yaml', { ...valid, hyperparameters: { learningRat: 0.02, epochs: 0 } });
    expect(await refused(['train', 'submit', typo])).toEqual([
      `mlcycle: model churn: ${typo}: hyperparameters.learningRat: got 0.02: not a hyperparameter of containers/trainer; ` +
        'did you mean learningRate? (declared: learningRate, epochs, l2, batchSize, seed, schedule, earlyStoppingPatience)',
      `model churn: ${typo}: hyperparameters.epochs: got 0: hyperparameter epochs: got 0: 0 is below the minimum 1 (expected an integer in [1, 10000])`,
    ]);
  });

  it('train submit names a missing or unparsable file', async () => {
    const missing = join(tmp, 'nope.yaml');
    expect(await refused(['train', 'submit', missing])).toEqual([
      `mlcycle: job file ${missing} cannot be read (ENOENT); see examples/train-job.yaml for one`,
    ]);
    const broken = jobFile('broken.yaml', 'model: [churn\n');
    expect((await refused(['train', 'submit', broken]))[0]).toMatch(/broken\.yaml: not valid YAML/);
  });
});

describe('started through the start route, against a running local stack', () => {
  let dir: string;
  let stack: LocalStack;

  async function startRecords(): Promise<Record<string, unknown>[]> {
    const doc = createDocumentClient(stack.dynamo.client);
    const out = await doc.send(
      new ScanCommand({ TableName: stack.endpoints.tableName, ConsistentRead: true }),
    );
    return (out.Items ?? []).filter((i) => i.entity === 'start');
  }

  async function start(config: ReturnType<typeof loadConfig>): Promise<void> {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-cli-train-'));
    stack = await startLocalStack({ config, dir, root: ROOT, fresh: true });
  }
  async function stop(): Promise<void> {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }

  // One stack per test file: the in-process functions keep their clients (and endpoints) once made.
  beforeAll(() => start(loadRunnableConfig(CONFIG, ROOT)));
  afterAll(stop);

  it('train submit starts the run, recorded with who asked and the overrides as declared types', async () => {
    const file = jobFile('job.yaml', { ...valid, hyperparameters: { learningRate: '0.02', epochs: 80 } });
    const r = await runCli(dir, ['train', 'submit', file], { user: USER });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^started arn:aws:states:.*:churn-staging-manual-.* as data-scientist@studio\.example with learningRate=0\.02, epochs=80$/m,
    );
    const records = await startRecords();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      requestedBy: USER,
      trigger: 'manual',
      request: {
        model: 'churn',
        stage: 'staging',
        reason: 'smaller steps',
        overrides: { learningRate: 0.02, epochs: 80 },
      },
    });
  });

  it('pipeline start <model> --set starts the same way', async () => {
    const r = await runCli(
      dir,
      ['pipeline', 'start', 'churn', '--set', 'schedule=constant', '--set', 'seed=7'],
      {
        user: USER,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ as data-scientist@studio\.example with schedule="constant", seed=7$/m);
    const records = await startRecords();
    expect(records.map((rec) => (rec.request as { overrides: unknown }).overrides)).toContainEqual({
      schedule: 'constant',
      seed: 7,
    });
  });

  it("the registered version's lineage has the run's hyperparameters with the override applied", async () => {
    const key = 'datasets/churn/override-test.csv';
    await new S3Objects(stack.s3.client).put(
      { bucket: stack.endpoints.bucket, key },
      churnCsv({ rows: 1500, seed: 11 }),
      'text/csv',
    );
    const file = jobFile('job3.yaml', {
      ...valid,
      dataset: `s3://${stack.endpoints.bucket}/${key}`,
      hyperparameters: { epochs: '3', schedule: 'constant' },
    });
    const r = await runCli(dir, ['train', 'submit', file], { user: USER });
    expect(r.code, r.stderr).toBe(0);
    const registry = new Registry(createDocumentClient(stack.dynamo.client), stack.endpoints.tableName);
    const deadline = Date.now() + 180_000;
    let lineage: Record<string, unknown> | undefined;
    while (!lineage) {
      lineage = (await registry.versions.listVersions('churn'))[0]?.lineage.hyperparameters;
      if (lineage) break;
      if (Date.now() > deadline) throw new Error('no version was registered within 3 minutes');
      await new Promise((done) => setTimeout(done, 500));
    }
    // The config's values, with the two overrides applied as their declared types.
    expect(lineage).toMatchObject({ learningRate: 0.05, epochs: 3, l2: 0.001, schedule: 'constant' });
    // The run record says who set what.
    const runs = await registry.runs.listRuns('churn');
    expect(runs.filter((run) => run.datasetUri.endsWith(key))).toEqual([
      expect.objectContaining({ requestedBy: USER, overrides: { epochs: 3, schedule: 'constant' } }),
    ]);
  }, 200_000);

  it('pipeline start on the data and settings of the serving version: SKIPPED with why (exit 0), shown by pipeline list; --force starts it', async () => {
    const key = 'datasets/churn/served.csv';
    const body = churnCsv({ rows: 300, seed: 21 });
    const uri = `s3://${stack.endpoints.bucket}/${key}`;
    await new S3Objects(stack.s3.client).put({ bucket: stack.endpoints.bucket, key }, body, 'text/csv');
    const registry = new Registry(createDocumentClient(stack.dynamo.client), stack.endpoints.tableName);
    const trained = loadRunnableConfig(CONFIG, ROOT).models.churn?.training.hyperparameters ?? {};
    const served = await registry.versions.registerVersion({
      model: 'churn',
      version: '9.0.0',
      metrics: { auc: 0.8 },
      status: 'ready',
      lineage: {
        parentVersion: null,
        datasetUri: uri,
        datasetSha256: createHash('sha256').update(body).digest('hex'),
        codeVersion: 'c0ffee1',
        runId: 'served',
        hyperparameters: trained,
        framework: 'mlcycle-logreg@1.0.0',
        artifactUri: `s3://${stack.endpoints.bucket}/runs/churn/served/model.json`,
        artifactSha256: 'b'.repeat(64),
        author: USER,
      },
    });
    const promoted = { model: 'churn', stage: 'production', version: served.version, actor: USER };
    await registry.stages.promote({ ...promoted, reason: 'serving', action: 'promote' });
    const args = ['pipeline', 'start', 'churn', '--stage', 'production', '--dataset', uri];

    const r = await runCli(dir, [...args, '--wait'], { user: USER });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^SKIPPED: retraining churn for production skipped: .*churn 9\.0\.0, serving production.*pass --force to train anyway \(run \S+\)$/m,
    );
    const list = await runCli(dir, ['pipeline', 'list', '--model', 'churn', '--json'], { user: USER });
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { status: string; run: string; why: string }[];
    expect(rows.filter((row) => row.run === 'skipped')).toEqual([
      expect.objectContaining({
        status: 'SUCCEEDED',
        why: expect.stringContaining('pass --force to train anyway'),
      }),
    ]);
    expect((await registry.versions.listVersions('churn')).map((v) => v.version)).not.toContain('9.1.0');

    const forced = await runCli(dir, [...args, '--force'], { user: USER });
    expect(forced.code, forced.stderr).toBe(0);
    expect((await startRecords()).map((rec) => (rec.request as { force?: boolean }).force)).toContain(true);
  }, 120_000);

  it('deployed without trainer schemas, the server refuses an override the CLI let through: exit 2, nothing started', async () => {
    // As a stack deployed by an older mlcycle: its deployed config has no trainers section.
    const deployedFile = join(dir, DEPLOYED_CONFIG_FILE);
    const deployed = readFileSync(deployedFile, 'utf8');
    writeFileSync(deployedFile, JSON.stringify(loadConfig(CONFIG)));
    const before = await startRecords();
    const file = jobFile('job2.yaml', valid);
    let r: Awaited<ReturnType<typeof runCli>>;
    try {
      r = await runCli(dir, ['train', 'submit', file], { user: USER });
    } finally {
      writeFileSync(deployedFile, deployed);
    }
    expect(r.code, r.stdout).toBe(2);
    expect(errorLines(r)).toEqual([
      expect.stringContaining('model churn: --set epochs=80 cannot be checked'),
    ]);
    expect(await startRecords()).toEqual(before);
  });
});
