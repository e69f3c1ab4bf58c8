import { objectRows } from '../../adapters/drift/object-rows.js';
import type { RolloutStore } from '../../adapters/registry/rollouts.js';
import { s3Uri } from '../../adapters/s3-objects.js';
import type { Metrics } from '../../contracts/pipeline.js';
import type { RolloutPolicy } from '../../contracts/rollout-evidence.js';
import { type RolloutRecord, variantsInForce } from '../../contracts/rollout-record.js';
import { rolloutStatusBase } from '../../contracts/s3-layout.js';
import {
  describeBreach,
  type PerformanceBreach,
  performanceBreaches,
} from '../../domain/drift/performance-breach.js';
import { ConflictError, isMlcycleError } from '../../domain/errors.js';
import {
  type BatchColumns,
  type BatchEvidence,
  BatchEvidenceAccumulator,
  batchEvidenceProblem,
  CORRECT_RATE,
} from '../../domain/rollouts/batch-evidence.js';
import { decide, type Memory, type RolloutDecision } from '../../domain/rollouts/decide.js';
import { histogramCount, histogramQuantile, mergeEvidence, rateOf } from '../../domain/rollouts/evidence.js';
import { renderRolloutStatus, statusViewOf } from '../../domain/rollouts/status-html.js';
import { ROLLOUT_GUARD } from '../rollouts/abort.js';
import { alertRollout } from './alerts.js';
import { type MonitoringDeps, modelRoles, type UploadedObject, type UploadRecordBase } from './deps.js';
import { autoAbort, finishInterruptedAbort, type StoredDecision } from './rollout-abort.js';

/**
 * The rollout side of a monitoring batch: when the model has an active rollout and the deployed
 * config gives it rollout columns, the batch is read a second time, row by row, into per-variant
 * evidence of the step in force; that is merged into the stored evidence and decided on with the
 * deployed policy (never the batch's), and the record keeps both (once per batch id; a revision
 * race re-reads and retries). Then a rollback aborts the rollout without waiting for a person
 * (the ledger entry keeps the decision as its evidence) and alerts; so does a canary whose rows
 * alone break the model's live thresholds. A promotion is asked for once, through the normal
 * pipeline and the stage's approvals. The rollout's status page is rewritten each time.
 */

/** The actor automatic aborts and promotion requests are recorded under (services/rollouts/abort.ts). */
export { ROLLOUT_GUARD };

/** `models.<m>.rollout` of the deployed config: the policy and the columns batches carry. */
export interface RolloutSettings {
  readonly policy: RolloutPolicy;
  readonly columns: Omit<BatchColumns, 'label' | 'prediction'>;
}

export interface AutoAbortInput {
  readonly model: string;
  readonly stage: string;
  readonly expectedRevision: number;
  readonly reason: string;
  /** What the abort acted on, kept in the ledger entry. */
  readonly evidence: Record<string, unknown>;
}

/** What the batch check needs to guard rollouts (absent: rollouts are not aggregated). */
export interface RolloutGuard {
  readonly store: Pick<
    RolloutStore,
    'activeForModel' | 'get' | 'list' | 'recordEvidence' | 'notePromotionRequest'
  >;
  /** From the deployed config, read on each batch. */
  readonly settings: (model: string) => RolloutSettings | undefined;
  /** Ends the rollout as `auto-abort` by ROLLOUT_GUARD and puts the control back in the manifest. */
  readonly abort: (input: AutoAbortInput) => Promise<unknown>;
  /** Publishes the stage's manifest again (an abort whose publication failed is finished on redelivery). */
  readonly republish?: (record: RolloutRecord) => Promise<unknown>;
  /** Starts a promotion execution of the version (trigger `rollout`), returning its name. */
  readonly requestPromotion?: (input: {
    model: string;
    stage: string;
    version: string;
    reason: string;
  }) => Promise<{ executionName: string }>;
}

export interface RolloutCheck {
  readonly rolloutId: string;
  readonly stage: string;
  /** What was done: evidence refused, recorded (or already), and the action taken. */
  readonly outcome: 'refused' | 'recorded' | 'already-recorded' | 'ended';
  readonly action?: RolloutDecision['action'];
  readonly aborted?: boolean;
  readonly promotionRequested?: string;
  readonly statusUri?: string;
  /** A line for the drift record's warnings. */
  readonly warning?: string;
}

const ATTEMPTS = 4;

/** Rollout checks of one batch; [] when the model has no active rollout or no rollout columns. */
export async function checkRollouts(
  d: MonitoringDeps,
  o: UploadedObject,
  upload: UploadRecordBase,
  reference: Partial<Metrics> | null,
): Promise<RolloutCheck[]> {
  const guard = d.rollouts;
  const settings = guard?.settings(upload.model);
  if (!guard || !settings) return [];
  const active = await guard.store.activeForModel(upload.model);
  if (!active.length) return finishInterruptedAbort(d, o, upload);
  if (active.length > 1) {
    const which = active.map((r) => `${r.rolloutId} (${r.stage})`).join(', ');
    return active.map((r) => ({
      rolloutId: r.rolloutId,
      stage: r.stage,
      outcome: 'refused' as const,
      warning: `${upload.model} has ${active.length} active rollouts (${which}): a batch cannot say which stage served it, so none was aggregated; end all but one`,
    }));
  }
  const record = active[0] as RolloutRecord;
  let batch: BatchEvidence | undefined;
  try {
    batch = await aggregate(d, o, record, settings);
  } catch (err) {
    if (!isMlcycleError(err)) throw err;
    return [await refuse(d, o, record, err.message)];
  }
  if (!batch) return [];
  const problem = batchEvidenceProblem(batch, variantsInForce(record), settings.columns.variant);
  if (problem) return [await refuse(d, o, record, problem)];
  return [await decideAndAct(d, o, upload, record, batch, settings, reference)];
}

/** The batch's evidence, or undefined when it has no variant column (not a rollout batch). */
async function aggregate(
  d: MonitoringDeps,
  o: UploadedObject,
  record: RolloutRecord,
  settings: RolloutSettings,
): Promise<BatchEvidence | undefined> {
  const roles = modelRoles(d, record.model);
  const acc = new BatchEvidenceAccumulator({
    columns: { ...settings.columns, label: roles.target, prediction: 'prediction' },
    variants: variantsInForce(record),
    step: String(record.steps.length - 1),
    task: roles.task,
  });
  let first = true;
  for await (const row of objectRows(d.objects, o)) {
    if (first && !Object.hasOwn(row, settings.columns.variant)) return undefined;
    first = false;
    acc.add(row);
  }
  return acc.result();
}

async function refuse(
  d: MonitoringDeps,
  o: UploadedObject,
  record: RolloutRecord,
  problem: string,
): Promise<RolloutCheck> {
  const message = `${s3Uri(o.bucket, o.key)} was not added to rollout ${record.rolloutId} of ${record.model} ${record.stage}: ${problem}. Nothing of the rollout changed.`;
  await alertRollout(d, o, record.model, {
    subject: `rollout evidence refused: ${record.model} ${record.stage}`,
    message,
  });
  return { rolloutId: record.rolloutId, stage: record.stage, outcome: 'refused', warning: message };
}

async function decideAndAct(
  d: MonitoringDeps,
  o: UploadedObject,
  upload: UploadRecordBase,
  first: RolloutRecord,
  batch: BatchEvidence,
  settings: RolloutSettings,
  reference: Partial<Metrics> | null,
): Promise<RolloutCheck> {
  const { model, stage, rolloutId } = first;
  const breaches = canaryBreaches(d, first, batch, reference);
  let record = first;
  let decision: StoredDecision | undefined;
  let outcome: RolloutCheck['outcome'] = 'recorded';
  for (let attempt = 1; ; attempt++) {
    if (record.status !== 'active') return { rolloutId, stage, outcome: 'ended' };
    if (record.batches.includes(upload.batchId)) {
      outcome = 'already-recorded';
      decision = (record.lastDecision ?? undefined) as StoredDecision | undefined;
      break;
    }
    const evidence = mergeEvidence(record.evidence, batch.evidence);
    const steps = Object.fromEntries(record.steps.map((s, i) => [String(i), s.variants]));
    const full = decide({
      evidence,
      steps,
      policy: settings.policy,
      memory: (record.memory ?? {}) as Record<string, Memory>,
    });
    const { memory, ...rest } = full;
    decision = { ...rest, ...(breaches.length ? { batchBreaches: breaches } : {}) };
    try {
      record = (
        await d.rollouts?.store.recordEvidence(model, stage, record.revision, {
          batchId: upload.batchId,
          evidence,
          memory,
          lastDecision: decision,
        })
      )?.record as RolloutRecord;
      break;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= ATTEMPTS) throw err;
      const again = await d.rollouts?.store.get(model, rolloutId);
      if (!again) throw err;
      record = again;
    }
  }
  const statusUri = s3Uri(d.bucket, `${rolloutStatusBase(model, rolloutId)}.html`);
  const result = await act(d, o, record, decision, statusUri);
  const latest = (await d.rollouts?.store.get(model, rolloutId)) ?? record;
  if (decision) await writeStatusPage(d, latest, decision, upload, batch);
  return { rolloutId, stage, outcome, ...result, ...(decision ? { statusUri } : {}) };
}

async function act(
  d: MonitoringDeps,
  o: UploadedObject,
  record: RolloutRecord,
  decision: StoredDecision | undefined,
  statusUri: string,
): Promise<Pick<RolloutCheck, 'action' | 'aborted' | 'promotionRequested'>> {
  if (!decision) return {};
  const rollback = decision.action === 'rollback' || (decision.batchBreaches?.length ?? 0) > 0;
  if (rollback) return { action: 'rollback', aborted: await autoAbort(d, o, record, decision, statusUri) };
  if (decision.action === 'promote' && decision.winner) {
    const requested = await requestPromotionOnce(d, record, decision);
    return { action: 'promote', ...(requested ? { promotionRequested: requested } : {}) };
  }
  return { action: decision.action };
}

/**
 * The model's live thresholds (models.<m>.monitoring.performance) on each treatment's rows of
 * this batch alone: its accuracy against the serving version's evaluation, its p95 latency.
 */
function canaryBreaches(
  d: MonitoringDeps,
  record: RolloutRecord,
  batch: BatchEvidence,
  reference: Partial<Metrics> | null,
): PerformanceBreach[] {
  const roles = modelRoles(d, record.model);
  const variants = variantsInForce(record);
  const step = batch.evidence.steps[String(record.steps.length - 1)] ?? {};
  const out: PerformanceBreach[] = [];
  for (const v of variants.slice(0, -1)) {
    const e = Object.hasOwn(step, v.name) ? step[v.name] : undefined;
    if (!e) continue;
    const correct = Object.hasOwn(e.rates, CORRECT_RATE) ? e.rates[CORRECT_RATE] : undefined;
    const rows = batch.rowsByVariant[v.name] ?? 0;
    const p = (q: number) => histogramQuantile(e.latency, q) ?? 0;
    const latency = histogramCount(e.latency) ? { p50: p(0.5), p95: p(0.95), p99: p(0.99) } : null;
    const metrics = correct?.trials && roles.task !== 'regression' ? { accuracy: rateOf(correct) } : null;
    out.push(
      ...performanceBreaches({ metrics, reference, change: null, latency }, roles.performance, {
        rows,
        minSampleSize: d.config.minSampleSize,
      }),
    );
  }
  return out;
}

async function requestPromotionOnce(
  d: MonitoringDeps,
  record: RolloutRecord,
  decision: StoredDecision,
): Promise<string | undefined> {
  const request = d.rollouts?.requestPromotion;
  if (!request || record.promotionRequest) return undefined;
  const winner = variantsInForce(record).find((v) => v.name === decision.winner);
  if (!winner) return undefined;
  const reason = `rollout ${record.rolloutId}: ${decision.reasons
    .filter((r) => r.code === 'primary-better' && r.variant === winner.name)
    .map((r) => r.message)
    .join('; ')}`;
  const started = await request({
    model: record.model,
    stage: record.stage,
    version: winner.version,
    reason,
  });
  const at = (d.clock ?? (() => new Date()))().toISOString();
  try {
    await d.rollouts?.store.notePromotionRequest(record.model, record.stage, record.revision, {
      executionName: started.executionName,
      at,
    });
  } catch (err) {
    // a concurrent batch noted its own request first: this one's execution stays, and is named
    if (!(err instanceof ConflictError)) throw err;
  }
  return started.executionName;
}

/** The status page and its data under reports/<model>/rollouts/<rolloutId>/. */
async function writeStatusPage(
  d: MonitoringDeps,
  record: RolloutRecord,
  decision: StoredDecision,
  upload: UploadRecordBase,
  batch: BatchEvidence,
): Promise<void> {
  const base = rolloutStatusBase(record.model, record.rolloutId);
  const notes = [
    ...(batch.unknownVariantRows
      ? [
          `${batch.unknownVariantRows} rows of the last batch named no variant of the rollout (${batch.unknownVariants.map((u) => u.value).join(', ')})`,
        ]
      : []),
    ...Object.entries(batch.invalid).map(
      ([c, n]) => `${n} values of column ${c} in the last batch could not be read`,
    ),
    ...(batch.playersInSeveralVariants
      ? [`${batch.playersInSeveralVariants} players appeared under two variants in the last batch`]
      : []),
    ...(decision.batchBreaches ?? []).map((b) => `canary rows: ${describeBreach(b, record.model)}`),
  ];
  const view = statusViewOf(
    { ...record, lastDecision: decision },
    { checkedAt: upload.checkedAt, lastBatchKey: upload.batchKey, notes },
  );
  if (!view) return;
  await d.objects.putJson({ bucket: d.bucket, key: `${base}.json` }, view);
  await d.objects.put({ bucket: d.bucket, key: `${base}.html` }, renderRolloutStatus(view), 'text/html');
}
