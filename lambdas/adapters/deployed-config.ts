import { readFileSync } from 'node:fs';
import type { MlcycleConfig } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import { ValidationError } from '../domain/errors.js';
import { parseConfig } from './config-file.js';

let cached: { path: string; text: string; config: MlcycleConfig } | undefined;

/**
 * The deployed config: the file `MLCYCLE_CONFIG_FILE` names (on AWS, `/opt/mlcycle/config.json`
 * from the stack's config layer; locally, the file `mlcycle up` wrote). Validated with the same
 * schema as mlcycle.config.yaml. Read on every call (a few KB) and parsed again only when its
 * text changed.
 */
export function deployedConfig(env: NodeJS.ProcessEnv = process.env): MlcycleConfig {
  const path = env[ENV.configFile];
  if (!path) {
    throw new ValidationError(
      `${ENV.configFile} is not set: the function cannot know the deployed policy (the stack sets it)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(
      `the deployed config ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      undefined,
      { cause: err },
    );
  }
  if (cached?.path !== path || cached.text !== text) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ValidationError(`the deployed config ${path} is not JSON`, undefined, { cause: err });
    }
    cached = { path, text, config: parseConfig(raw, `deployed config ${path}`) };
  }
  return cached.config;
}
