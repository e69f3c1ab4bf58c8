import type { DriftRecord } from '../../adapters/drift/drift-store.js';
import { s3Uri } from '../../adapters/s3-objects.js';
import type { DriftSummary } from '../../contracts/drift-summary.js';
import { batchProfileKey, driftLatestKey, driftReportBase } from '../../contracts/s3-layout.js';
import type { DriftResult, FeatureDrift } from '../../domain/drift/drift-result.js';
import { measuredOf } from '../../domain/drift/measured.js';
import { renderDriftReport } from '../../domain/drift/report-html.js';
import type { Profile } from '../../domain/profile/profile.js';
import type { MonitoringDeps, UploadRecordBase } from './deps.js';

/** Where a check's full result (JSON) and its HTML report were written. */
export interface DriftReports {
  readonly resultUri: string;
  readonly reportUri: string;
}

/**
 * The outputs of one drift check under reports/<model>/: the full result (JSON), the HTML
 * report with its charts, and the batch's profile (for later roll-ups).
 */
export async function writeDriftReports(
  d: MonitoringDeps,
  upload: UploadRecordBase,
  now: Date,
  result: DriftResult,
  profile: Profile,
  baselineKey: string,
): Promise<DriftReports> {
  const { model, batchKey, checkedAt } = upload;
  const base = driftReportBase(model, now, upload.batchId);
  await d.objects.putJson(
    { bucket: d.bucket, key: `${base}.json` },
    { model, batchKey, baselineKey, checkedAt, ...result },
  );
  await d.objects.put(
    { bucket: d.bucket, key: `${base}.html` },
    renderDriftReport(model, batchKey, result, checkedAt, baselineKey),
    'text/html',
  );
  await d.objects.putJson({ bucket: d.bucket, key: batchProfileKey(model, upload.batchId) }, profile);
  return { resultUri: s3Uri(d.bucket, `${base}.json`), reportUri: s3Uri(d.bucket, `${base}.html`) };
}

/** A column's deciding method, score and severity: what records and summaries keep of it. */
export function featureScore(f: FeatureDrift): DriftRecord['features'][number] {
  return { name: f.name, method: f.method, score: f.score, severity: f.severity, measured: measuredOf(f) };
}

/**
 * The model's latest drift status (reports/<model>/drift/latest.json), which the approval page
 * and the CLI read: the batch's status as its record has it (`degraded` when too many rows were
 * skipped, with the warning saying so), and per column what was measured.
 */
export async function writeLatestSummary(
  d: MonitoringDeps,
  upload: UploadRecordBase,
  result: DriftResult,
  rows: number,
  reportUri: string,
  check: { readonly status: DriftRecord['status']; readonly warnings: readonly string[] },
): Promise<void> {
  const summary: DriftSummary = {
    model: upload.model,
    batchId: upload.batchId,
    batchKey: upload.batchKey,
    checkedAt: upload.checkedAt,
    status: check.status,
    overallSeverity: result.overallSeverity,
    driftedShare: result.driftedShare,
    rows,
    features: result.features.map((f) => ({
      ...featureScore(f),
      kind: f.kind,
      ...(f.severity !== 'none' ? { recommendation: f.recommendation } : {}),
    })),
    reportUri,
    performance: {
      metrics: result.performance.metrics,
      change: result.performance.change,
      latency: result.performance.latency,
    },
    ...(check.warnings.length ? { warnings: [...check.warnings] } : {}),
  };
  await d.objects.putJson({ bucket: d.bucket, key: driftLatestKey(upload.model) }, summary);
}
