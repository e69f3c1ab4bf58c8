import type { DriftRecord } from '../../adapters/drift/drift-store.js';
import { profileObject } from '../../adapters/drift/object-profile.js';
import { s3Uri } from '../../adapters/s3-objects.js';
import { baselineProfileKey, baselineSnapshotKey } from '../../contracts/s3-layout.js';
import { type MonitoringDeps, modelRoles, type UploadedObject } from './deps.js';
import { oncePerUpload } from './uploads.js';

/**
 * monitoring/<model>/baseline/… uploaded: profile it and make it the model's baseline (the
 * profile, a copy of it as this upload made it, and the pointer batches are checked against).
 */
export async function processBaseline(
  d: MonitoringDeps,
  o: UploadedObject,
): Promise<DriftRecord | undefined> {
  return oncePerUpload(d, o, 'baseline', async (upload) => {
    const { model, batchId } = upload;
    modelRoles(d, model);
    const profile = await profileObject(
      d.objects,
      o,
      { kinds: d.config.schema[model], categoricalCap: d.config.categoricalCap },
      d.parallel,
    );
    const profileKey = baselineProfileKey(model);
    await d.objects.putJson({ bucket: d.bucket, key: baselineSnapshotKey(model, batchId) }, profile);
    await d.objects.putJson({ bucket: d.bucket, key: profileKey }, profile);
    const kinds = Object.fromEntries(Object.entries(profile.columns).map(([c, p]) => [c, p.kind]));
    await d.store.putBaseline({
      model,
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
