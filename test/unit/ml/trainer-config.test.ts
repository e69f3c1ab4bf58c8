import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/adapters/config-file.js';
import { ValidationError } from '../../../lambdas/domain/errors.js';
import {
  checkOverrides,
  modelTrainerProblems,
  parseSetArguments,
} from '../../../lambdas/domain/ml/trainer-config.js';
import { attachTrainers, loadRunnableConfig } from '../../../local/trainers/config-trainers.js';

/** A config whose only model uses `image` with these hyperparameters. */
function config(hyperparameters: Record<string, unknown>, image = 'containers/trainer', extra = {}) {
  return parseConfig({
    models: { churn: { target: 'churned', training: { image, hyperparameters } } },
    environments: { staging: { approvers: ['lead@studio.test'], quorum: 1 } },
    ...extra,
  });
}

function failure(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('each model is checked against its trainer.yaml at config load', () => {
  it('the repository config loads, and carries the trainer schema the server side validates with', () => {
    const loaded = loadRunnableConfig('mlcycle.config.yaml');
    const churn = loaded.trainers?.churn;
    expect(churn?.folder).toBe('containers/trainer');
    expect(churn?.tasks).toEqual(['binary']);
    expect(churn?.hyperparameters.learningRate).toMatchObject({ type: 'number', default: 0.05 });
    // The deployed config (layer / deployed-config.json) is this JSON, parsed with the same schema.
    const deployed = parseConfig(JSON.parse(JSON.stringify(loaded)), 'deployed config');
    expect(deployed.trainers).toEqual(loaded.trainers);
  });

  it('a typo is refused naming model, key, value and the closest declared name', () => {
    const err = failure(() =>
      attachTrainers(config({ learningRat: 0.05, epochs: 3 }), 'mlcycle.config.yaml'),
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toContain(
      'mlcycle.config.yaml: models.churn.training.hyperparameters.learningRat: got 0.05: ' +
        'not a hyperparameter of containers/trainer; did you mean learningRate?',
    );
  });

  it('wrong types, out-of-range values and choices are refused with the value, all at once', () => {
    const err = failure(() => attachTrainers(config({ epochs: 0, schedule: 'linear', l2: 'lots' })));
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(3);
    expect(err.message).toContain(
      'models.churn.training.hyperparameters.epochs: hyperparameter epochs: got 0',
    );
    expect(err.message).toContain('below the minimum 1');
    expect(err.message).toContain('schedule: got "linear"');
    expect(err.message).toContain('one of cosine, constant');
    expect(err.message).toContain('l2: got "lots"');
  });

  it('a training.image without a trainer.yaml is refused naming the folder', () => {
    const err = failure(() => attachTrainers(config({}, 'containers/nope')));
    expect(err.message).toContain('models.churn.training.image: got "containers/nope"');
    expect(err.message).toContain('trainer.yaml cannot be read');
  });

  it('a model whose task the trainer does not declare is refused', () => {
    const trainer = attachTrainers(config({})).trainers?.churn;
    if (!trainer) throw new Error('no trainer');
    const problems = modelTrainerProblems(
      'ltv',
      { task: 'regression', training: { hyperparameters: {} } } as never,
      trainer,
    );
    expect(problems).toEqual([
      'models.ltv.task: got "regression": trainer containers/trainer declares tasks binary; set task to one of them or choose another training.image',
    ]);
    expect(modelTrainerProblems('churn', { training: { hyperparameters: {} } }, trainer)).toEqual([]);
  });

  it('a hand-written trainers: section is refused (mlcycle writes it from trainer.yaml)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlcycle-hp-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      [
        'models: { churn: { target: churned } }',
        'environments: { staging: { approvers: [lead@studio.test] } }',
        'trainers: { churn: { folder: containers/trainer, name: trainer, tasks: [binary], hyperparameters: {} } }',
      ].join('\n'),
    );
    expect(() => loadRunnableConfig(file)).toThrow(/trainers: is written by mlcycle .*remove it/);
  });
});

describe('--set overrides against the deployed schema', () => {
  const trainer = attachTrainers(config({})).trainers?.churn;

  it('coerces strings to the declared types', () => {
    expect(
      checkOverrides(
        'churn',
        trainer,
        { epochs: 3 },
        { learningRate: '0.1', epochs: '7', schedule: 'constant' },
      ),
    ).toEqual({ learningRate: 0.1, epochs: 7, schedule: 'constant' });
    expect(checkOverrides('churn', trainer, {}, {})).toEqual({});
  });

  it('refuses a typo, a bad value, or any override without a deployed schema, naming key and value', () => {
    expect(() => checkOverrides('churn', trainer, {}, { learningRat: '0.1' })).toThrow(
      'model churn: --set learningRat="0.1": not a hyperparameter of containers/trainer; did you mean learningRate?',
    );
    expect(() => checkOverrides('churn', trainer, {}, { epochs: '2.5' })).toThrow(
      /--set epochs="2.5": hyperparameter epochs: got "2.5": expected an integer/,
    );
    expect(() => checkOverrides('churn', undefined, {}, { epochs: '3' })).toThrow(
      /--set epochs="3" cannot be checked: the deployed config has no trainer schema for churn/,
    );
  });

  it('parses key=value arguments and refuses malformed or repeated ones', () => {
    expect(parseSetArguments(['a=1', 'b=x=y', 'c='])).toEqual({ a: '1', b: 'x=y', c: '' });
    expect(() => parseSetArguments(['learningRate'])).toThrow(/--set "learningRate": expected key=value/);
    expect(() => parseSetArguments(['=3'])).toThrow(/expected key=value/);
    expect(() => parseSetArguments(['a=1', 'a=2'])).toThrow('--set a is given twice ("1" and "2")');
  });
});
