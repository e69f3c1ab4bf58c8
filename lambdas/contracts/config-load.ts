import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { configSchema, type MlcycleConfig } from './config-schema.js';

export const DEFAULT_CONFIG_PATH = 'mlcycle.config.yaml';

/** One line per problem: `<source>: <key.path>: <bad value> <what is wrong>`. */
export function describeZodError(error: z.ZodError, source: string): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.length ? issue.path.join('.') : '(root)';
      const got = 'input' in issue && issue.input !== undefined ? ` got ${show(issue.input)}:` : '';
      return `${source}: ${key}:${got} ${issue.message}`;
    })
    .join('\n');
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

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
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ValidationError(`${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseConfig(raw, path);
}
