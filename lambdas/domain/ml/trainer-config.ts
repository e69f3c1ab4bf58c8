import type { DeployedTrainer, Hyperparameters, HyperparameterValue } from '../../contracts/trainer.js';
import { ValidationError } from '../errors.js';
import { closestName, validateHyperparameters } from './trainer-hyperparameters.js';

/**
 * A model's config checked against its trainer (the trainer.yaml in `training.image`), before
 * anything runs: at config load (the model's task and hyperparameters) and at pipeline start
 * (the `--set` overrides, against the schema the deployed config carries). Pure.
 */

/** The model's task (`task`, default binary; the field is added to the model schema by issue 11). */
export function modelTask(model: unknown): string {
  return (model as { task?: string }).task ?? 'binary';
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** "not a hyperparameter of <folder>; did you mean x?" for a name the trainer does not declare. */
function unknownName(key: string, trainer: DeployedTrainer): string {
  const names = Object.keys(trainer.hyperparameters);
  const suggestion = closestName(key, names);
  return (
    `not a hyperparameter of ${trainer.folder}` +
    (suggestion ? `; did you mean ${suggestion}?` : '') +
    ` (declared: ${names.length ? names.join(', ') : 'none'})`
  );
}

/**
 * Every problem of one model against its trainer, one line each, naming the key path and the
 * value: a task the trainer does not declare, an unknown hyperparameter (with the closest
 * declared name), a wrong type, a value out of range, a required one missing.
 */
export function modelTrainerProblems(
  modelName: string,
  model: { readonly training: { readonly hyperparameters: Readonly<Record<string, unknown>> } },
  trainer: DeployedTrainer,
): string[] {
  const problems: string[] = [];
  const task = modelTask(model);
  if (!(trainer.tasks as readonly string[]).includes(task)) {
    problems.push(
      `models.${modelName}.task: got ${show(task)}: trainer ${trainer.folder} declares tasks ${trainer.tasks.join(', ')}; ` +
        `set task to one of them or choose another training.image`,
    );
  }
  const given = model.training.hyperparameters;
  const result = validateHyperparameters(trainer.hyperparameters, given);
  if (!result.ok) {
    for (const p of result.problems) {
      const path = `models.${modelName}.training.hyperparameters.${p.key}`;
      if (!Object.hasOwn(trainer.hyperparameters, p.key)) {
        problems.push(`${path}: got ${show(p.value)}: ${unknownName(p.key, trainer)}`);
      } else {
        problems.push(`${path}: ${p.message} (declared by ${trainer.folder}/trainer.yaml)`);
      }
    }
  }
  return problems;
}

/** Overrides as a caller gives them (strings from `--set`, or JSON values). */
export type HyperparameterOverrides = Readonly<Record<string, HyperparameterValue>>;

/**
 * `--set key=value` overrides checked against the trainer schema of the deployed config and
 * coerced to the declared types. Throws a ValidationError naming the model, the key and the
 * value (and the closest declared name); without a deployed schema no override is accepted,
 * since nothing could check it.
 */
export function checkOverrides(
  modelName: string,
  trainer: DeployedTrainer | undefined,
  base: Readonly<Record<string, HyperparameterValue>>,
  overrides: HyperparameterOverrides,
  /** How an override is named in messages (a job file names its own key path). */
  label: (key: string, shownValue: string) => string = (key, value) => `--set ${key}=${value}`,
): Hyperparameters {
  const keys = Object.keys(overrides);
  if (keys.length === 0) return {};
  const shown = keys.map((k) => label(k, show(overrides[k]))).join(', ');
  if (!trainer) {
    throw new ValidationError(
      `model ${modelName}: ${shown} cannot be checked: the deployed config has no trainer schema for ${modelName}; ` +
        'deploy the stack again (or restart mlcycle up) with this version of mlcycle, which records it from trainer.yaml',
    );
  }
  const result = validateHyperparameters(trainer.hyperparameters, { ...base, ...overrides });
  if (!result.ok) {
    const lines = result.problems.map((p) => {
      const own = Object.hasOwn(overrides, p.key);
      const what = own ? label(p.key, show(p.value)) : `deployed hyperparameter ${p.key}=${show(p.value)}`;
      const why = Object.hasOwn(trainer.hyperparameters, p.key) ? p.message : unknownName(p.key, trainer);
      return `model ${modelName}: ${what}: ${why}`;
    });
    throw new ValidationError(lines.join('\n'), { problems: result.problems });
  }
  const coerced: Hyperparameters = {};
  for (const key of keys) {
    const value = result.hyperparameters[key];
    if (value !== undefined) coerced[key] = value;
  }
  return coerced;
}

/**
 * Parses `--set key=value` arguments (repeatable) into overrides; the value stays a string until
 * checkOverrides coerces it to the declared type. A malformed or repeated key is refused by name.
 */
export function parseSetArguments(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const key = eq < 0 ? arg : arg.slice(0, eq);
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new ValidationError(
        `--set ${show(arg)}: expected key=value with a hyperparameter name (letters, digits, underscores), e.g. --set learningRate=0.1`,
      );
    }
    if (Object.hasOwn(out, key)) {
      throw new ValidationError(
        `--set ${key} is given twice (${show(out[key])} and ${show(arg.slice(eq + 1))}); give it once`,
      );
    }
    out[key] = arg.slice(eq + 1);
  }
  return out;
}
