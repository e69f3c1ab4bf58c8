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
  /** A rollout event: sorts after the change in force when it happened, in revision order. */
  ledgerRollout: (stage: string, seq: number, rolloutId: string, revision: number) =>
    `LEDGER#${stage}#${String(seq).padStart(10, '0')}#rollout#${rolloutId}#${String(revision).padStart(6, '0')}`,
  ledgerPrefix: (stage?: string) => (stage ? `LEDGER#${stage}#` : 'LEDGER#'),
  rollout: (rolloutId: string) => `ROLLOUT#${rolloutId}`,
  rolloutPrefix: () => 'ROLLOUT#',
  /** Per stage: how many rollouts it had (ids are never reused) and the active one's id. */
  rolloutStage: (stage: string) => `ROLLOUTSTAGE#${stage}`,
  rolloutStagePrefix: () => 'ROLLOUTSTAGE#',
  run: (runId: string) => `RUN#${runId}`,
  runPrefix: () => 'RUN#',
  modelsIndex: () => 'MODELS',
} as const;
