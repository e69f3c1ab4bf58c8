import { createHash } from 'node:crypto';
import type { DriftRecord } from '../../adapters/drift/drift-store.js';
import { monitoringPrefix, parseMonitoringKey } from '../../contracts/s3-layout.js';
import { DataError, isMlcycleError } from '../../domain/errors.js';
import { alertFailure } from './alerts.js';
import type { MonitoringDeps, UploadedObject, UploadKind, UploadRecordBase } from './deps.js';

/** The work done for an upload, given what its record says of it (model, batch id, …) and when it came. */
export type UploadWork = (upload: UploadRecordBase, now: Date) => Promise<DriftRecord>;

function batchIdOf(o: UploadedObject): string {
  return createHash('sha256').update(`${o.key}#${o.version}`).digest('hex').slice(0, 12);
}

/**
 * Runs `work` once per object version: a duplicate delivery is skipped (while an attempt holds
 * the lease, or once one has finished; a crashed attempt's lease runs out after the function's
 * timeout, so its redelivery is processed); a data problem becomes
 * an error record (and an alert), never a retry loop; any other failure (an AWS call failing,
 * the alert included) gives the claim back and rethrows, so the retried delivery is processed.
 * The record is always the last write, so a retry after a failure never leaves two records.
 */
export async function oncePerUpload(
  d: MonitoringDeps,
  o: UploadedObject,
  kind: UploadKind,
  work: UploadWork,
): Promise<DriftRecord | undefined> {
  const now = (d.clock ?? (() => new Date()))();
  if (!(await d.store.claimEvent(o.bucket, o.key, o.version, now, d.leaseSeconds))) return undefined;
  let record: DriftRecord;
  try {
    record = await workOrErrorRecord(d, o, kind, now, work);
  } catch (err) {
    await d.store.releaseEvent(o.bucket, o.key, o.version);
    throw err;
  }
  // outside the try: the record is written, so a failure here must not give the claim back
  // (the lease still runs out after the function's timeout, and Lambda's retries come sooner)
  await d.store.completeEvent(o.bucket, o.key, o.version, now);
  return record;
}

async function workOrErrorRecord(
  d: MonitoringDeps,
  o: UploadedObject,
  kind: UploadKind,
  now: Date,
  work: UploadWork,
): Promise<DriftRecord> {
  const parsed = parseMonitoringKey(o.key);
  const upload: UploadRecordBase = {
    model: parsed?.model ?? 'unknown',
    batchId: batchIdOf(o),
    batchKey: o.key,
    kind,
    checkedAt: now.toISOString(),
  };
  try {
    if (!parsed) {
      const [baseline, batches] = [
        monitoringPrefix('<model>', 'baseline'),
        monitoringPrefix('<model>', 'batches'),
      ];
      throw new DataError(`"${o.key}" is not under ${baseline} or ${batches}`);
    }
    return await work(upload, now);
  } catch (err) {
    if (!isMlcycleError(err)) throw err;
    const record: DriftRecord = {
      ...upload,
      status: 'error',
      overallSeverity: 'none',
      driftedShare: 0,
      rows: 0,
      features: [],
      error: err.message,
      alerted: true,
    };
    await alertFailure(d, o, kind, upload.model, err.message);
    // a key outside monitoring/<model>/ has no model to file the record under
    if (parsed) await d.store.putRecord(record);
    return record;
  }
}
