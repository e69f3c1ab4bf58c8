import { s3Uri } from '../../adapters/s3-objects.js';
import type { RolloutRecord } from '../../contracts/rollout-record.js';
import { rolloutStatusBase } from '../../contracts/s3-layout.js';
import { describeBreach, type PerformanceBreach } from '../../domain/drift/performance-breach.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { RolloutDecision } from '../../domain/rollouts/decide.js';
import { alertRollout } from './alerts.js';
import type { MonitoringDeps, UploadedObject, UploadRecordBase } from './deps.js';
import type { RolloutCheck } from './rollout-check.js';

/** A decision as the rollout record keeps it: without its memory, with the canary's own breaches. */
export type StoredDecision = Omit<RolloutDecision, 'memory'> & { batchBreaches?: PerformanceBreach[] };

/**
 * Aborts the rollout as the guard (the ledger entry keeps the decision), then alerts once. A
 * rollout something else ended first is left alone, with no alert; any other failure is thrown,
 * so the delivery is retried (and finishInterruptedAbort completes what the abort left undone).
 */
export async function autoAbort(
  d: MonitoringDeps,
  o: UploadedObject,
  record: RolloutRecord,
  decision: StoredDecision,
  statusUri: string,
): Promise<boolean> {
  const { model, stage } = record;
  const lines = [
    ...decision.reasons
      .filter((r) => r.code !== 'too-few-samples' && r.code !== 'no-decision-yet')
      .map((r) => r.message),
    ...(decision.batchBreaches ?? []).map((b) => `canary rows of ${o.key}: ${describeBreach(b, model)}`),
  ];
  try {
    await d.rollouts?.abort({
      model,
      stage,
      expectedRevision: record.revision,
      reason: `automatic abort: ${lines.join('; ')}`,
      evidence: { rolloutId: record.rolloutId, batchKey: o.key, statusUri, decision },
    });
  } catch (err) {
    // Another delivery (or a person) ended it first: nothing more to do, and no second alert.
    if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
    const now = await d.rollouts?.store.get(model, record.rolloutId);
    if (now?.status === 'active') throw err;
    return false;
  }
  await alertAborted(d, o, record, lines, statusUri);
  return true;
}

async function alertAborted(
  d: MonitoringDeps,
  o: UploadedObject,
  record: RolloutRecord,
  lines: readonly string[],
  statusUri: string,
): Promise<void> {
  const { model, stage } = record;
  await alertRollout(d, o, model, {
    subject: `rollout ${record.rolloutId} of ${model} ${stage} aborted automatically`,
    message: `${record.canaryVersion} no longer serves any player of ${model} ${stage}; ${record.controlVersion} serves them all again.\n\n${lines.map((l) => `- ${l}`).join('\n')}\n\nStatus: ${statusUri}`,
  });
}

/**
 * A redelivered batch whose decision aborted the rollout, where the abort ended the record but
 * what came after it failed (the manifest's publication, the alert): the manifest is published
 * again and the alert sent (at least once), so no abort is left half done.
 */
export async function finishInterruptedAbort(
  d: MonitoringDeps,
  o: UploadedObject,
  upload: UploadRecordBase,
): Promise<RolloutCheck[]> {
  const guard = d.rollouts;
  if (!guard) return [];
  const records = await guard.store.list(upload.model);
  const record = records.find(
    (r) => r.ended?.kind === 'auto-abort' && r.batches[r.batches.length - 1] === upload.batchId,
  );
  if (!record?.ended) return [];
  await guard.republish?.(record);
  const statusUri = s3Uri(d.bucket, `${rolloutStatusBase(record.model, record.rolloutId)}.html`);
  const lines = record.ended.reason.replace(/^automatic abort: /, '').split('; ');
  await alertAborted(d, o, record, lines, statusUri);
  return [
    {
      rolloutId: record.rolloutId,
      stage: record.stage,
      outcome: 'ended',
      action: 'rollback',
      aborted: true,
      statusUri,
    },
  ];
}
