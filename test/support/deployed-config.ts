import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MlcycleConfig } from '../../lambdas/contracts/config-schema.js';

/** Writes a config where a handler finds it as the deployed one (MLCYCLE_CONFIG_FILE); returns the path. */
export function deployedConfigFile(config: MlcycleConfig): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mlcycle-deployed-')), 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}
