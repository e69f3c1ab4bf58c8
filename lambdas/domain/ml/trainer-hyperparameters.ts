import {
  type HyperparameterSpec,
  type Hyperparameters,
  type HyperparameterValue,
  rangeProblem,
} from '../../contracts/trainer.js';

/**
 * Hyperparameters checked against the schema a trainer declares in its trainer.yaml, before any
 * job starts: unknown names (with the closest declared one), types, ranges, choices, required.
 */

/** One thing wrong with the hyperparameters a caller gave: the key, its value, what is wrong. */
export interface HyperparameterProblem {
  readonly key: string;
  readonly value: unknown;
  readonly message: string;
}

export type HyperparameterResult =
  | { readonly ok: true; readonly hyperparameters: Hyperparameters }
  | { readonly ok: false; readonly problems: readonly HyperparameterProblem[] };

function describeSpec(spec: HyperparameterSpec): string {
  switch (spec.type) {
    case 'integer':
    case 'number': {
      const range =
        spec.min !== undefined || spec.max !== undefined
          ? ` in [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]`
          : '';
      return `${spec.type === 'integer' ? 'an integer' : 'a number'}${range}`;
    }
    case 'string':
      return spec.choices ? `one of ${spec.choices.join(', ')}` : 'a string';
    case 'boolean':
      return 'true or false';
  }
}

/**
 * A value from YAML, JSON or `--set key=value` as the declared type. Command-line values arrive
 * as strings, so numeric strings are accepted for numbers and "true"/"false" for booleans;
 * anything else of the wrong type is refused rather than guessed.
 */
function coerce(spec: HyperparameterSpec, value: unknown): { value?: HyperparameterValue; problem?: string } {
  const expected = `expected ${describeSpec(spec)}`;
  switch (spec.type) {
    case 'integer':
    case 'number': {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : Number.NaN;
      if (!Number.isFinite(n)) return { problem: expected };
      if (spec.type === 'integer' && !Number.isInteger(n)) return { problem: expected };
      const range = rangeProblem(spec, n);
      return range ? { problem: `${range} (${expected})` } : { value: n };
    }
    case 'string': {
      if (typeof value !== 'string') return { problem: expected };
      if (spec.choices && !spec.choices.includes(value)) return { problem: expected };
      return { value };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { value };
      if (value === 'true' || value === 'false') return { value: value === 'true' };
      return { problem: expected };
    }
  }
}

/** Levenshtein distance, for "did you mean" on a misspelt name. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** The declared name closest to a misspelt one, if any is close enough to suggest. */
export function closestName(name: string, declared: readonly string[]): string | undefined {
  return closest(name, declared);
}

function closest(name: string, declared: readonly string[]): string | undefined {
  const normalise = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  let best: { name: string; distance: number } | undefined;
  for (const candidate of declared) {
    const distance = editDistance(normalise(name), normalise(candidate));
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 4)) ? best.name : undefined;
}

/**
 * Checks hyperparameters against a trainer's declared schema and fills in the defaults. Unknown
 * names, wrong types, values out of range or not among the choices, and missing required ones
 * are each a problem naming the key and the value; nothing is dropped or guessed.
 */
export function validateHyperparameters(
  declared: Readonly<Record<string, HyperparameterSpec>>,
  given: unknown,
): HyperparameterResult {
  const problems: HyperparameterProblem[] = [];
  if (given !== undefined && given !== null && (typeof given !== 'object' || Array.isArray(given))) {
    return {
      ok: false,
      problems: [
        { key: '(root)', value: given, message: 'hyperparameters must be an object of name: value' },
      ],
    };
  }
  const input = (given ?? {}) as Record<string, unknown>;
  const names = Object.keys(declared);
  for (const key of Object.keys(input)) {
    if (Object.hasOwn(declared, key)) continue;
    const suggestion = closest(key, names);
    problems.push({
      key,
      value: input[key],
      message:
        `unknown hyperparameter ${key}` +
        (suggestion ? ` (did you mean ${suggestion}?)` : '') +
        ` (declared: ${names.length ? names.join(', ') : 'none'})`,
    });
  }
  const hyperparameters: Hyperparameters = {};
  for (const [key, spec] of Object.entries(declared)) {
    if (!Object.hasOwn(input, key) || input[key] === undefined) {
      if (spec.default === undefined) {
        problems.push({
          key,
          value: undefined,
          message: `hyperparameter ${key} is required: ${describeSpec(spec)}`,
        });
      } else {
        hyperparameters[key] = spec.default;
      }
      continue;
    }
    const { value, problem } = coerce(spec, input[key]);
    if (problem !== undefined || value === undefined) {
      problems.push({
        key,
        value: input[key],
        message: `hyperparameter ${key}: got ${JSON.stringify(input[key])}: ${problem ?? 'invalid'}`,
      });
    } else {
      hyperparameters[key] = value;
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, hyperparameters };
}
