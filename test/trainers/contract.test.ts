import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type HyperparameterSpec,
  predictModeEnv,
  REQUIRED_ENV,
  trainerManifestSchema,
  trainModeEnv,
} from '../../lambdas/contracts/trainer.js';
import { parsePredictions } from '../../lambdas/domain/ml/predictions.js';
import { validateHyperparameters } from '../../lambdas/domain/ml/trainer-hyperparameters.js';
import { checkTrainerHyperparameters, loadTrainer } from '../../local/trainers/manifest.js';

const REPO_TRAINERS = ['containers/sklearn-ltv', 'containers/torch-segment', 'containers/trainer'];
const FIXTURES = readdirSync('test/fixtures/trainers').map((name) => `test/fixtures/trainers/${name}`);

describe('trainer.yaml (contract mlcycle.trainer/v1)', () => {
  it.each([...REPO_TRAINERS, ...FIXTURES])('%s is a valid trainer', (dir) => {
    const trainer = loadTrainer(dir);
    expect(trainer.manifest.contract).toBe('mlcycle.trainer/v1');
    expect(trainer.label).toBe(dir);
  });

  it('declares what the two real trainers need', () => {
    const ltv = loadTrainer('containers/sklearn-ltv').manifest;
    expect(ltv).toMatchObject({ tasks: ['regression'], gpu: false, local: { runtime: 'python3' } });
    expect(ltv.local?.requires).toContain('sklearn');
    const segment = loadTrainer('containers/torch-segment').manifest;
    expect(segment).toMatchObject({ tasks: ['multiclass'], gpu: true });
    expect(segment.local?.requires).toContain('torch');
  });

  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-manifest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, yaml: string) => {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'trainer.yaml'), yaml);
    return join(dir, name);
  };
  const valid = (name: string) =>
    [
      'contract: mlcycle.trainer/v1',
      `name: ${name}`,
      'framework: test',
      'tasks: [binary]',
      'train: [python3, train.py]',
      'predict: [python3, predict.py]',
      'local: { runtime: python3, requires: [numpy] }',
    ].join('\n');

  it('refuses a bad trainer.yaml naming the key and the value', () => {
    const bad = (name: string, yaml: string) => () => loadTrainer(write(name, yaml));
    expect(bad('v2', valid('v2').replace('trainer/v1', 'trainer/v2'))).toThrow(
      /trainer\.yaml: contract: got "mlcycle\.trainer\/v2"/,
    );
    expect(bad('task', valid('task').replace('[binary]', '[ranking]'))).toThrow(/tasks\.0: got "ranking"/);
    expect(bad('extra', `${valid('extra')}\nimage: foo`)).toThrow(/Unrecognized key.*image/);
    expect(bad('argv', valid('argv').replace('[python3, train.py]', '[python, train.py]'))).toThrow(
      /train\.0: got "python": must be the local runtime python3/,
    );
    expect(bad('folder', valid('other'))).toThrow(/name: got "other": must be the folder's name "folder"/);
    expect(
      bad('range', `${valid('range')}\nhyperparameters:\n  lr: { type: number, min: 0, max: 1, default: 2 }`),
    ).toThrow(/hyperparameters\.lr\.default: got 2: 2 is above the maximum 1/);
    expect(
      bad(
        'choice',
        `${valid('choice')}\nhyperparameters:\n  loss: { type: string, choices: [a, b], default: c }`,
      ),
    ).toThrow(/loss\.default: got "c": is not one of the choices \(a, b\)/);
    expect(bad('missing', 'contract: mlcycle.trainer/v1')).toThrow(/name:.*\n.*framework/);
    expect(() => loadTrainer(join(dir, 'nowhere'))).toThrow(/trainer\.yaml cannot be read \(ENOENT\)/);
  });

  it('needs no local: section for a Docker-only trainer', () => {
    const parsed = trainerManifestSchema.parse({
      contract: 'mlcycle.trainer/v1',
      name: 'docker-only',
      framework: 'JAX',
      tasks: ['regression'],
      train: ['/opt/conda/bin/python', 'train.py'],
      predict: ['/opt/conda/bin/python', 'predict.py'],
    });
    expect(parsed).toMatchObject({ gpu: false, hyperparameters: {} });
    expect(parsed.local).toBeUndefined();
  });
});

describe('hyperparameters against the declared schema', () => {
  const declared: Record<string, HyperparameterSpec> = {
    max_iter: { type: 'integer', min: 10, max: 5000, default: 300 },
    learning_rate: { type: 'number', min: 0.0001, max: 1, default: 0.1 },
    loss: { type: 'string', choices: ['squared_error', 'absolute_error'], default: 'squared_error' },
    warm: { type: 'boolean', default: false },
    seed: { type: 'integer' },
  };

  it('fills in the defaults', () => {
    expect(validateHyperparameters(declared, { seed: 7 })).toEqual({
      ok: true,
      hyperparameters: { max_iter: 300, learning_rate: 0.1, loss: 'squared_error', warm: false, seed: 7 },
    });
  });

  it('takes command-line strings as the declared type', () => {
    const result = validateHyperparameters(declared, {
      max_iter: '40',
      learning_rate: '0.5',
      warm: 'true',
      seed: 1,
    });
    expect(result).toMatchObject({
      ok: true,
      hyperparameters: { max_iter: 40, learning_rate: 0.5, warm: true },
    });
  });

  it('refuses a typo by name, suggesting the declared one', () => {
    const result = validateHyperparameters(declared, { learningRat: 0.2, seed: 1 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      {
        key: 'learningRat',
        value: 0.2,
        message:
          'unknown hyperparameter learningRat (did you mean learning_rate?) ' +
          '(declared: max_iter, learning_rate, loss, warm, seed)',
      },
    ]);
  });

  it('names every bad key and its value', () => {
    const result = validateHyperparameters(declared, {
      max_iter: 3.5,
      learning_rate: 2,
      loss: 'huber',
      warm: 'yes',
      bogus: 1,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.message)).toEqual([
      'unknown hyperparameter bogus (declared: max_iter, learning_rate, loss, warm, seed)',
      'hyperparameter max_iter: got 3.5: expected an integer in [10, 5000]',
      'hyperparameter learning_rate: got 2: 2 is above the maximum 1 (expected a number in [0.0001, 1])',
      'hyperparameter loss: got "huber": expected one of squared_error, absolute_error',
      'hyperparameter warm: got "yes": expected true or false',
      'hyperparameter seed is required: an integer',
    ]);
    expect(validateHyperparameters(declared, [1, 2])).toMatchObject({ ok: false });
    expect(validateHyperparameters(declared, { seed: '' })).toMatchObject({ ok: false });
  });

  it('throws a ValidationError naming the trainer for a real trainer.yaml', () => {
    const trainer = loadTrainer('containers/sklearn-ltv');
    expect(checkTrainerHyperparameters(trainer, { max_iter: '50' })).toMatchObject({
      max_iter: 50,
      loss: 'squared_error',
    });
    expect(() => checkTrainerHyperparameters(trainer, { learningRat: 0.2 })).toThrow(
      /^containers\/sklearn-ltv: unknown hyperparameter learningRat \(did you mean learning_rate\?\) \(declared: max_iter, learning_rate, /,
    );
  });
});

describe('contract environment', () => {
  it('builds every variable each mode requires', () => {
    const train = trainModeEnv({
      model: 'ltv',
      runId: 'r1',
      codeVersion: 'abc',
      task: 'regression',
      target: 'ltv_90d',
      train: '/in/train.csv',
      hyperparameters: { max_iter: 10 },
      outputDir: '/out',
      checkpointDir: '/ckpt',
      useGpu: false,
    });
    for (const name of REQUIRED_ENV.train) expect(train[name], name).toBeTruthy();
    expect(train).toMatchObject({
      MLCYCLE_VALIDATION: '',
      MLCYCLE_USE_GPU: '0',
      MLCYCLE_HYPERPARAMETERS: '{"max_iter":10}',
    });
    const predict = predictModeEnv({
      task: 'binary',
      modelDir: '/m',
      input: '/i.csv',
      predictions: '/p.jsonl',
    });
    for (const name of REQUIRED_ENV.predict) expect(predict[name], name).toBeTruthy();
  });
});

describe('predictions file', () => {
  it('accepts one value of the task’s shape per row', () => {
    expect(parsePredictions('binary', '0.1\n0.9\n', 2)).toEqual({ ok: true, predictions: [0.1, 0.9] });
    expect(parsePredictions('regression', '-3.5\n120', 2)).toEqual({ ok: true, predictions: [-3.5, 120] });
    expect(parsePredictions('multiclass', '{"a":0.25,"b":0.75}\n{"b":0.5,"a":0.5}\n', 2)).toMatchObject({
      ok: true,
    });
    expect(parsePredictions('binary', '', 0)).toEqual({ ok: true, predictions: [] });
  });

  it('says what is wrong, with the line', () => {
    const problem = (task: 'binary' | 'multiclass' | 'regression', text: string, rows: number) => {
      const result = parsePredictions(task, text, rows);
      return result.ok ? 'ok' : result.problem;
    };
    expect(problem('binary', '0.1\n', 2)).toBe('1 prediction lines for 2 input rows');
    expect(problem('binary', '0.1\n1.7\n', 2)).toMatch(/^prediction line 2: got 1.7, expected .*\[0, 1\]/);
    expect(problem('binary', 'NaN?\n', 1)).toMatch(/^prediction line 1 is not JSON/);
    expect(problem('regression', '"3"\n', 1)).toMatch(/expected a finite number/);
    expect(problem('multiclass', '{"a":0.5,"b":0.6}\n', 1)).toMatch(/sum to 1.1/);
    expect(problem('multiclass', '{"a":1}\n', 1)).toMatch(/at least two labels/);
    expect(problem('multiclass', '{"a":0.5,"b":0.5}\n{"a":0.5,"c":0.5}\n', 2)).toMatch(/labels a,c differ/);
  });
});

describe('docs/trainer-contract.md', () => {
  const doc = readFileSync('docs/trainer-contract.md', 'utf8');

  it('shows the minimal trainer exactly as the tests run it', () => {
    const blocks = [...doc.matchAll(/<!-- file: (\S+) -->\n```\w*\n([\s\S]*?)```\n/g)];
    expect(blocks.map((b) => b[1])).toEqual([
      'test/fixtures/trainers/minimal/trainer.yaml',
      'test/fixtures/trainers/minimal/train.py',
      'test/fixtures/trainers/minimal/predict.py',
      'test/fixtures/trainers/minimal/Dockerfile',
    ]);
    for (const [, path, text] of blocks) expect(text, path).toBe(readFileSync(path as string, 'utf8'));
  });

  it('documents every variable of both modes', () => {
    for (const name of [...REQUIRED_ENV.train, ...REQUIRED_ENV.predict, 'MLCYCLE_VALIDATION']) {
      expect(doc, name).toContain(`| \`${name}\``);
    }
  });
});
