import type { DriftRecord } from '../../adapters/drift/drift-store.js';
import { profileObject } from '../../adapters/drift/object-profile.js';
import { readManifest } from '../../adapters/registry/manifest.js';
import { s3Uri } from '../../adapters/s3-objects.js';
import { monitoringPrefix } from '../../contracts/s3-layout.js';
import { compareProfiles } from '../../domain/drift/compare.js';
import { performanceBreaches } from '../../domain/drift/performance-breach.js';
import { skippedRowsStatus } from '../../domain/drift/record.js';
import { atLeast } from '../../domain/drift/severity.js';
import { NotFoundError } from '../../domain/errors.js';
import type { Profile } from '../../domain/profile/profile.js';
import { alertBatch } from './alerts.js';
import { type MonitoringDeps, modelRoles, type UploadedObject } from './deps.js';
import { featureScore, writeDriftReports, writeLatestSummary } from './reports.js';
import { retrainOnCritical } from './retrain.js';
import { checkRollouts } from './rollout-check.js';
import { oncePerUpload } from './uploads.js';

/**
 * monitoring/<model>/batches/… uploaded: profile it with the baseline's kinds, compare it with
 * the baseline, write the reports, hand a critical drift to retraining, alert, aggregate it into
 * the model's active rollout (rollout-check.ts), then record.
 */
export async function processBatch(d: MonitoringDeps, o: UploadedObject): Promise<DriftRecord | undefined> {
  return oncePerUpload(d, o, 'batch', async (upload, now) => {
    const { model } = upload;
    const roles = modelRoles(d, model);
    const baseline = await d.store.getBaseline(model);
    if (!baseline) {
      throw new NotFoundError(
        `no baseline for ${model}: upload one to ${s3Uri(d.bucket, monitoringPrefix(model, 'baseline'))} first, then upload this batch again`,
      );
    }
    const baselineProfile = await d.objects.getJson<Profile>({ bucket: d.bucket, key: baseline.profileKey });
    const profile = await profileObject(
      d.objects,
      o,
      {
        kinds: Object.assign(Object.create(null), baseline.kinds, d.config.schema[model] ?? {}),
        categoricalCap: d.config.categoricalCap,
        performance: { label: roles.target, prediction: 'prediction' },
      },
      d.parallel,
      d.config.maxColumns,
    );
    const result = compareProfiles(baselineProfile, profile, {
      thresholds: d.config.thresholds,
      minSampleSize: d.config.minSampleSize,
      roles: { target: roles.target, ignore: roles.exclude },
      referenceMetrics: await referenceMetrics(d, model),
    });
    const { resultUri, reportUri } = await writeDriftReports(
      d,
      upload,
      now,
      result,
      profile,
      baseline.sourceKey,
    );
    const retrainExecution = await retrainOnCritical(d, model, o, result, now);
    const driftAlert =
      atLeast(result.overallSeverity, d.config.alerts.minSeverity) && result.overallSeverity !== 'none';
    // The model's live thresholds alert on their own, drift or none; one alert per batch says both.
    const breaches = performanceBreaches(result.performance, roles.performance, {
      rows: result.rows.batch,
      minSampleSize: d.config.minSampleSize,
    });
    const alert = driftAlert || breaches.length > 0;
    if (alert) await alertBatch(d, model, o, result, reportUri, { drift: driftAlert, breaches });
    const skipped = profile.skipped.ragged + profile.skipped.oversized;
    const { status, warning } = skippedRowsStatus(
      result.status,
      profile.rows,
      skipped,
      d.config.maxSkippedRowShare,
    );
    // The model's active rollout: this batch's rows per variant, decided on, acted on.
    const rollouts = await checkRollouts(d, o, upload, result.performance.reference);
    const warnings = [
      ...(warning ? [warning] : []),
      ...profile.warnings,
      ...rollouts.flatMap((r) => (r.warning ? [r.warning] : [])),
    ];
    await writeLatestSummary(d, upload, result, profile.rows, reportUri, { status, warnings });
    const record: DriftRecord = {
      ...upload,
      status,
      overallSeverity: result.overallSeverity,
      driftedShare: result.driftedShare,
      rows: profile.rows,
      baselineKey: baseline.sourceKey,
      features: result.features.map(featureScore),
      resultUri,
      reportUri,
      alerted: alert,
      ...(warnings.length ? { warnings } : {}),
      ...(skipped ? { skippedRows: skipped } : {}),
      ...(retrainExecution ? { retrainExecution } : {}),
      ...(breaches.length ? { performanceBreaches: breaches } : {}),
    };
    // Last: a failure before this line is retried whole, and leaves no record behind.
    await d.store.putRecord(record);
    return record;
  });
}

/** The evaluation metrics of the serving version (production, else staging), to compare live ones with. */
async function referenceMetrics(d: MonitoringDeps, model: string) {
  for (const stage of ['production', 'staging']) {
    const manifest = await readManifest(d.objects, d.bucket, model, stage).catch(() => undefined);
    if (manifest) return manifest.metrics;
  }
  return null;
}
