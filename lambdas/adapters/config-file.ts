import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { configSchema, type MlcycleConfig } from '../contracts/config-schema.js';
import { describeZodError } from '../contracts/zod-errors.js';
import { ValidationError } from '../domain/errors.js';

/**
 * mlcycle.config.yaml read and validated (CLI, synth, tests): a bad file is a ValidationError
 * naming the key and the value. The deployed copy is read by deployed-config.ts.
 */
export const DEFAULT_CONFIG_PATH = 'mlcycle.config.yaml';

export function parseConfig(raw: unknown, source = DEFAULT_CONFIG_PATH): MlcycleConfig {
  // zod 4 leaves the offending value out of its issues unless asked; the message names it.
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ValidationError(describeZodError(result.error, source));
  return result.data;
}

export function loadConfig(path = DEFAULT_CONFIG_PATH): MlcycleConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(
      `config file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); ` +
        'create it or pass --config <path>',
      undefined,
      { cause: err },
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ValidationError(
      `${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`,
      undefined,
      {
        cause: err,
      },
    );
  }
  return parseConfig(raw, path);
}
