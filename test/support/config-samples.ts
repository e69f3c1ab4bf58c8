import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseConfig } from '../../lambdas/adapters/config-file.js';

/** The repository's mlcycle.config.yaml as raw YAML data, fresh on every call (tests edit it). */
export type RawConfig = { models: Record<string, Record<string, unknown>> } & Record<string, unknown>;
export const sampleConfig = (): RawConfig => parse(readFileSync('mlcycle.config.yaml', 'utf8')) as RawConfig;

/** The message a config is refused with; a config that is accepted fails the test. */
export function configError(config: unknown): string {
  try {
    parseConfig(config, 'x.yaml');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}
