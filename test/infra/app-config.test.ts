import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildApp } from '../../bin/app.js';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import { DeployedConfig } from '../../lib/deployed-config.js';
import { fromRoot } from '../../lib/paths.js';
import { loadRunnableConfig } from '../../local/trainers/config-trainers.js';
import { defaultRawConfig } from './support.js';

const tmp = mkdtempSync(join(tmpdir(), 'mlcycle-app-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function withModelTraining(training: Record<string, unknown>): Record<string, unknown> {
  const raw = defaultRawConfig();
  const models = raw.models as Record<string, Record<string, unknown>>;
  const churn = models.churn ?? {};
  return {
    ...raw,
    models: { ...models, churn: { ...churn, training: { ...(churn.training as object), ...training } } },
  };
}

describe('config validation at synth time', () => {
  it('buildApp rejects a bad value with one line naming the key and the value, before building anything', () => {
    const bad = withModelTraining({ instanceTypes: ['not an instance'] });
    expect(() => buildApp(bad, { source: 'bad.yaml', nag: false })).toThrowError(
      expect.objectContaining({
        name: 'ValidationError',
        message:
          'bad.yaml: models.churn.training.instanceTypes.0: got "not an instance": must be an EC2 instance type such as g5.xlarge',
      }),
    );
  });

  it('parseConfig names a cross-field problem by its key and value', () => {
    const raw = defaultRawConfig();
    const environments = raw.environments as Record<string, Record<string, unknown>>;
    const bad = {
      ...raw,
      environments: { ...environments, production: { ...environments.production, quorum: 5 } },
    };
    expect(() => parseConfig(bad, 'x.yaml')).toThrow(
      /^x\.yaml: environments\.production\.quorum: got 5: needs 5 approvals/,
    );
  });

  it('bin/app.ts exits non-zero with exactly one line on stderr for one bad key', () => {
    const file = join(tmp, 'bad.yaml');
    writeFileSync(file, stringify(withModelTraining({ spot: 'sometimes' })));
    const outdir = join(tmp, 'out');
    const run = spawnSync(fromRoot('node_modules/.bin/tsx'), [fromRoot('bin/app.ts')], {
      cwd: fromRoot('.'),
      env: { ...process.env, MLCYCLE_CONFIG: file, CDK_OUTDIR: outdir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual([
      `${file}: models.churn.training.spot: got "sometimes": Invalid input: expected boolean, received string`,
    ]);
    // Nothing was synthesised (the App may have created its empty output folder).
    expect(existsSync(outdir) ? readdirSync(outdir).filter((f) => f.endsWith('.template.json')) : []).toEqual(
      [],
    );
  });
});

describe('trainer hyperparameters at synth time', () => {
  it('bin/app.ts refuses a hyperparameter the trainer does not declare, naming model, key, value and the closest name', () => {
    const file = join(tmp, 'typo.yaml');
    const raw = defaultRawConfig();
    const models = raw.models as Record<string, Record<string, unknown>>;
    const churn = models.churn ?? {};
    const training = churn.training as { hyperparameters?: Record<string, unknown> };
    const { learningRate, ...rest } = training.hyperparameters ?? {};
    const typo = {
      ...raw,
      models: {
        ...models,
        churn: {
          ...churn,
          training: { ...training, hyperparameters: { ...rest, learningRat: learningRate } },
        },
      },
    };
    writeFileSync(file, stringify(typo));
    const outdir = join(tmp, 'out-typo');
    const run = spawnSync(fromRoot('node_modules/.bin/tsx'), [fromRoot('bin/app.ts')], {
      cwd: fromRoot('.'),
      env: { ...process.env, MLCYCLE_CONFIG: file, CDK_OUTDIR: outdir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr.split('\n').filter((l) => l.trim() !== '')).toEqual([
      `${file}: models.churn.training.hyperparameters.learningRat: got ${JSON.stringify(learningRate)}: ` +
        'not a hyperparameter of containers/trainer; did you mean learningRate? ' +
        '(declared: learningRate, epochs, l2, batchSize, seed, schedule, earlyStoppingPatience)',
    ]);
    expect(existsSync(outdir) ? readdirSync(outdir).filter((f) => f.endsWith('.template.json')) : []).toEqual(
      [],
    );
  });

  it("the deployed config layer carries each model's trainer schema, for the start service", () => {
    const config = loadRunnableConfig(fromRoot('mlcycle.config.yaml'), fromRoot('.'));
    const deployed = new DeployedConfig(new Stack(), 'Config', { config });
    const json = JSON.parse(deployed.json) as { trainers?: Record<string, { hyperparameters: object }> };
    expect(Object.keys(json.trainers ?? {})).toEqual(Object.keys(config.models));
    expect(Object.keys(json.trainers?.churn?.hyperparameters ?? {})).toContain('learningRate');
  });
});

describe('boundaries', () => {
  it('lib/ and bin/app.ts import nothing from lambdas/ but lambdas/contracts/ (and bin/app.ts the config file reader)', () => {
    const files = [...readdirSync(fromRoot('lib')).map((f) => `lib/${f}`), 'bin/app.ts'].filter((f) =>
      f.endsWith('.ts'),
    );
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const imports = [...readFileSync(fromRoot(file), 'utf8').matchAll(/from '([^']+)'/g)].map(
        (m) => m[1] ?? '',
      );
      for (const spec of imports.filter((i) => i.includes('lambdas/'))) {
        // bin/app.ts, the synth process's entry, reads mlcycle.config.yaml as the CLI does.
        if (file === 'bin/app.ts' && spec === '../lambdas/adapters/config-file.js') continue;
        expect(spec, file).toMatch(/^\.\.\/lambdas\/contracts\/[a-z0-9-]+\.js$/);
      }
    }
  });
});
