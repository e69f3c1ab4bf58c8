import type { DriftRecord, DriftStore } from '../../adapters/drift/drift-store.js';
import type { ParallelOptions } from '../../adapters/drift/parallel-profile.js';
import type { AlertPublisher } from '../../adapters/notifier.js';
import type { S3Objects } from '../../adapters/s3-objects.js';
import type { MonitoringRuntimeConfig } from '../../contracts/config-schema.js';
import { DataError } from '../../domain/errors.js';
import type { RolloutGuard } from './rollout-check.js';

/** What the monitoring use cases (a baseline upload, a batch check) are given. */
export interface MonitoringDeps {
  readonly store: DriftStore;
  readonly objects: S3Objects;
  readonly bucket: string;
  readonly config: MonitoringRuntimeConfig;
  readonly alerts: AlertPublisher;
  /**
   * Starts a retrain of a model through the start service (recorded as asked by the drift
   * monitor), returning the execution ARN; absent when retraining on drift is not wired.
   */
  readonly retrain?: (model: string, reason: string) => Promise<string>;
  readonly fetch?: typeof fetch;
  readonly clock?: () => Date;
  /**
   * How long a delivery's claim is held before a redelivery may take it over: the function's
   * timeout (default 900 s, as lambdas/contracts/handlers.ts gives the monitoring functions).
   */
  readonly leaseSeconds?: number;
  /** Worker threads for profiling (default: one per available CPU). */
  readonly parallel?: ParallelOptions;
  /** Aggregates batches into the model's active rollout and acts on its decision; absent: not wired. */
  readonly rollouts?: RolloutGuard;
  /** Where delivery problems of secondary channels (the Slack webhook) are reported. */
  readonly logger?: MonitoringLogger;
}

/** The part of a logger the service uses (Powertools' Logger fits). */
export interface MonitoringLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

/** An object uploaded under monitoring/, as an S3 event names it. */
export interface UploadedObject {
  readonly bucket: string;
  readonly key: string;
  /** ETag or version id: what makes a delivery of the same object a duplicate. */
  readonly version: string;
  /** Who uploaded it, as S3 reports it (`userIdentity.principalId`), when it does. */
  readonly uploader?: string;
}

export type UploadKind = DriftRecord['kind'];

/** The fields every record of an upload has, whatever came of it. */
export type UploadRecordBase = Pick<DriftRecord, 'model' | 'batchId' | 'batchKey' | 'kind' | 'checkedAt'>;

/** The monitoring roles of a model in the config; a model it does not know is a data problem. */
export function modelRoles(d: MonitoringDeps, model: string) {
  const roles = d.config.models[model];
  if (!roles) {
    throw new DataError(
      `model "${model}" is not in the config (known: ${Object.keys(d.config.models).join(', ')})`,
    );
  }
  return roles;
}
