import { versionSortKey } from '../../domain/registry/semver.js';

/**
 * Keys of the registry items (see docs/registry-table.md). Everything about a model lives in
 * its partition, so one Query answers each access pattern.
 */
export const keys = {
  model: (model: string) => `MODEL#${model}`,
  meta: () => 'META',
  version: (version: string) => `VERSION#${versionSortKey(version)}`,
  versionPrefix: () => 'VERSION#',
  stage: (stage: string) => `STAGE#${stage}`,
  stagePrefix: () => 'STAGE#',
  ledger: (stage: string, seq: number) => `LEDGER#${stage}#${String(seq).padStart(10, '0')}`,
  /** Sorts right after the change in force when the promotion was refused. */
  ledgerRejection: (stage: string, seq: number, requestId: string) =>
    `LEDGER#${stage}#${String(seq).padStart(10, '0')}#reject#${requestId}`,
  ledgerPrefix: (stage?: string) => (stage ? `LEDGER#${stage}#` : 'LEDGER#'),
  run: (runId: string) => `RUN#${runId}`,
  runPrefix: () => 'RUN#',
  modelsIndex: () => 'MODELS',
} as const;
