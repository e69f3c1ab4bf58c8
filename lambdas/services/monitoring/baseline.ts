import type { DriftRecord } from '../../adapters/drift/drift-store.js';
import { profileObject } from '../../adapters/drift/object-profile.js';
import { s3Uri } from '../../adapters/s3-objects.js';
import { baselineProfileKey, baselineSnapshotKey } from '../../contracts/s3-layout.js';
import { DataError } from '../../domain/errors.js';
import { type MonitoringDeps, modelRoles, type UploadedObject } from './deps.js';
import { oncePerUpload } from './uploads.js';

/**
 * monitoring/<model>/baseline/… uploaded: profile it and make it the model's baseline. The
 * profile is written first, under a key of its own (this upload's snapshot), then a copy as the
 * current baseline, and the pointer batches are checked against last: the pointer names the
 * snapshot, so a failure at any point leaves the previous baseline whole. Each accepted upload
 * is kept as a baseline version (`drift baselines` lists them; `use-baseline` goes back to one).
 * A file that shares no column with the previous baseline (or the columns pinned in
 * monitoring.schema) is refused.
 */
export async function processBaseline(
  d: MonitoringDeps,
  o: UploadedObject,
): Promise<DriftRecord | undefined> {
  return oncePerUpload(d, o, 'baseline', async (upload) => {
    const { model, batchId } = upload;
    modelRoles(d, model);
    const pinned = d.config.schema[model];
    const profile = await profileObject(
      d.objects,
      o,
      { kinds: pinned, categoricalCap: d.config.categoricalCap },
      d.parallel,
      d.config.maxColumns,
    );
    const columns = Object.keys(profile.columns);
    const previous = await d.store.getBaseline(model);
    const known = previous ? Object.keys(previous.kinds) : Object.keys(pinned ?? {});
    if (known.length && !columns.some((c) => known.includes(c))) {
      throw new DataError(
        `"${o.key}" shares no column with ${previous ? `the current baseline (${previous.sourceKey})` : 'monitoring.schema'} of ${model}: it has ${list(columns)}; the model's are ${list(known)}. Upload a file with the model's columns`,
      );
    }
    const profileKey = baselineSnapshotKey(model, batchId);
    await d.objects.putJson({ bucket: d.bucket, key: profileKey }, profile);
    await d.objects.putJson({ bucket: d.bucket, key: baselineProfileKey(model) }, profile);
    const kinds = Object.fromEntries(Object.entries(profile.columns).map(([c, p]) => [c, p.kind]));
    // Kept as a version before the pointer names it: every accepted baseline stays listable.
    await d.store.versions.put({
      model,
      id: batchId,
      sourceKey: o.key,
      profileKey,
      rows: profile.rows,
      columns: columns.length,
      kinds,
      uploadedAt: upload.checkedAt,
      uploadedBy: o.uploader ? `S3 upload by ${o.uploader}` : 'S3 upload',
    });
    await d.store.putBaseline({
      model,
      id: batchId,
      profileKey,
      sourceKey: o.key,
      rows: profile.rows,
      kinds,
      createdAt: upload.checkedAt,
    });
    const record: DriftRecord = {
      ...upload,
      status: 'ok',
      overallSeverity: 'none',
      driftedShare: 0,
      rows: profile.rows,
      features: [],
      resultUri: s3Uri(d.bucket, profileKey),
      alerted: false,
    };
    await d.store.putRecord(record);
    return record;
  });
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, 10).join(', ');
  return names.length > 10 ? `${shown} … (${names.length} in all)` : shown;
}
