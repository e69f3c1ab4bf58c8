import type { StoredBaselineVersion } from '../../adapters/drift/baseline-versions.js';
import type { BaselinePointer, DriftStore } from '../../adapters/drift/drift-store.js';
import type { S3Objects } from '../../adapters/s3-objects.js';
import type { Caller } from '../../contracts/routes.js';
import { baselineProfileKey } from '../../contracts/s3-layout.js';
import {
  activeVersion,
  type BaselineAuditEntry,
  type BaselineVersion,
  checkDiscard,
  checkUse,
  type DiscardMark,
  newestFirst,
  requireReason,
  requireVersion,
} from '../../domain/drift/baselines.js';
import type { DriftRecord } from '../../domain/drift/record.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';

/** What the baseline decisions need: the drift store, the bucket, and the deployed config's models. */
export interface BaselineDecisionDeps {
  readonly store: DriftStore;
  readonly objects: S3Objects;
  readonly bucket: string;
  /** The models of the deployed config (never the caller's list). */
  readonly models: readonly string[];
  readonly clock?: () => Date;
}

export interface BaselineListing {
  readonly model: string;
  /** The active version's id (null with no baseline). */
  readonly active: string | null;
  /** Newest first, each marked active or not. */
  readonly versions: (BaselineVersion & { readonly active: boolean })[];
  /** Every use and discard, oldest first. */
  readonly audit: BaselineAuditEntry[];
}

export interface DecisionResult {
  readonly audit: BaselineAuditEntry;
  readonly warnings: string[];
}

function requireModel(deps: BaselineDecisionDeps, model: string): void {
  if (!deps.models.includes(model)) {
    throw new NotFoundError(
      `unknown model "${model}"; the deployed config defines: ${deps.models.join(', ') || 'none'}`,
    );
  }
}

/** The id of a pointer written before versions were kept: its snapshot's batch id. */
const legacyId = (p: BaselinePointer) =>
  p.id ?? /baseline-([^/]+)\.json$/.exec(p.profileKey)?.[1] ?? 'legacy';

/**
 * The versions, with the pointer's own version kept first when it predates versions (so going
 * back to it stays possible after another is used). Idempotent: it writes the same item again.
 */
async function versionsOf(
  deps: BaselineDecisionDeps,
  model: string,
  pointer: BaselinePointer | undefined,
  keep: boolean,
): Promise<StoredBaselineVersion[]> {
  const versions = await deps.store.versions.list(model);
  if (!pointer || versions.some((v) => v.profileKey === pointer.profileKey)) return versions;
  const legacy: StoredBaselineVersion = {
    model,
    id: legacyId(pointer),
    sourceKey: pointer.sourceKey,
    profileKey: pointer.profileKey,
    rows: pointer.rows,
    columns: Object.keys(pointer.kinds).length,
    kinds: pointer.kinds,
    uploadedAt: pointer.createdAt,
    uploadedBy: 'S3 upload (recorded before baseline versions were kept)',
  };
  if (keep) await deps.store.versions.put(legacy);
  return [...versions, legacy];
}

/** Every baseline of a model (the active one marked) and the audit trail of decisions about them. */
export async function listBaselines(deps: BaselineDecisionDeps, model: string): Promise<BaselineListing> {
  requireModel(deps, model);
  const pointer = await deps.store.getBaseline(model);
  const versions = await versionsOf(deps, model, pointer, false);
  const active = activeVersion(versions, pointer?.profileKey);
  return {
    model,
    active: active?.id ?? null,
    versions: newestFirst(versions).map(({ kinds: _k, ...v }) => ({ ...v, active: v.id === active?.id })),
    audit: await deps.store.versions.audit(model),
  };
}

function stamp(deps: BaselineDecisionDeps, caller: Caller, reason: string): DiscardMark {
  return {
    by: caller.person,
    principal: caller.principal,
    at: (deps.clock ?? (() => new Date()))().toISOString(),
    reason,
  };
}

/** The audit entry of one decision, stamped as `mark` says (who, the principal, when, why). */
function auditOf(
  model: string,
  action: BaselineAuditEntry['action'],
  target: string,
  mark: DiscardMark,
): BaselineAuditEntry {
  return {
    model,
    action,
    target,
    actor: mark.by,
    principal: mark.principal,
    at: mark.at,
    reason: mark.reason,
  };
}

/**
 * Makes an earlier baseline the active one, as the authenticated caller, with a reason: the
 * pointer moves and the audit entry is written in one transaction (conditional on the pointer
 * the decision read). The current copy (profiles/baseline.json) is refreshed after it.
 */
export async function useBaseline(
  deps: BaselineDecisionDeps,
  input: { model: string; id: string; reason: string },
  caller: Caller,
): Promise<DecisionResult> {
  requireModel(deps, input.model);
  const reason = requireReason(input.reason, `using a baseline of ${input.model}`);
  const pointer = await deps.store.getBaseline(input.model);
  const versions = await versionsOf(deps, input.model, pointer, false);
  const target = requireVersion(versions, input.model, input.id);
  const active = activeVersion(versions, pointer?.profileKey);
  checkUse(target, active);
  // only now, when the decision will be made: the version the pointer leaves stays listable
  await versionsOf(deps, input.model, pointer, true);
  const mark = stamp(deps, caller, reason);
  const audit: BaselineAuditEntry = {
    ...auditOf(input.model, 'use-baseline', target.id, mark),
    ...(active ? { previous: active.id } : {}),
  };
  await deps.store.versions.use(target, pointer?.profileKey, audit);
  const warnings: string[] = [];
  try {
    const profile = await deps.objects.getJson<unknown>({ bucket: deps.bucket, key: target.profileKey });
    await deps.objects.putJson({ bucket: deps.bucket, key: baselineProfileKey(input.model) }, profile);
  } catch (err) {
    // The pointer is what batches are checked against; the copy is a convenience for people.
    warnings.push(
      `baseline ${target.id} is active, but the copy at ${baselineProfileKey(input.model)} was not refreshed (${(err as Error).message}); batches use the pointer, not the copy`,
    );
  }
  return { audit, warnings };
}

/** Discards a baseline that is not the active one (its profile and item are kept, marked). */
export async function discardBaseline(
  deps: BaselineDecisionDeps,
  input: { model: string; id: string; reason: string },
  caller: Caller,
): Promise<DecisionResult> {
  requireModel(deps, input.model);
  const reason = requireReason(input.reason, `discarding a baseline of ${input.model}`);
  const pointer = await deps.store.getBaseline(input.model);
  const versions = await versionsOf(deps, input.model, pointer, false);
  const target = requireVersion(versions, input.model, input.id);
  checkDiscard(target, activeVersion(versions, pointer?.profileKey));
  const mark = stamp(deps, caller, reason);
  const audit = auditOf(input.model, 'discard-baseline', target.id, mark);
  await deps.store.versions.discard(target, mark, audit);
  return { audit, warnings: [] };
}

/**
 * Sets a bad batch aside: its record stays (marked who, when, why) but leaves the trend, the
 * worst-batch views and what retraining reads; a retrain cool-down its critical drift took is
 * given back. The latest record of the key when it was uploaded more than once.
 */
export async function discardBatch(
  deps: BaselineDecisionDeps,
  input: { model: string; batchKey: string; reason: string },
  caller: Caller,
): Promise<DecisionResult & { record: DriftRecord; cooldownReleased: boolean }> {
  requireModel(deps, input.model);
  const reason = requireReason(input.reason, `discarding a batch of ${input.model}`);
  const records = await deps.store.versions.recordsOf(input.model, input.batchKey);
  const record = records.at(-1);
  if (!record) {
    throw new NotFoundError(
      `no drift record of ${input.model} for "${input.batchKey}"; give the batch key as drift check or drift report --json shows it (monitoring/${input.model}/batches/…)`,
    );
  }
  if (record.kind !== 'batch') {
    throw new ValidationError(
      `"${input.batchKey}" is a baseline upload, not a batch; discard a baseline with: mlcycle drift discard-baseline ${input.model} <id> --reason "…"`,
    );
  }
  if (record.discarded) {
    throw new ConflictError(
      `batch ${input.batchKey} was already discarded by ${record.discarded.by} at ${record.discarded.at}`,
    );
  }
  const mark = stamp(deps, caller, reason);
  const audit = auditOf(input.model, 'discard-batch', input.batchKey, mark);
  const cooldownReleased = await deps.store.versions.discardBatch(record, mark, audit);
  return { audit, warnings: [], record: { ...record, discarded: mark }, cooldownReleased };
}
