import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { hasControlCharacters } from '../text.js';

/** Who set a version or batch aside, when and why (kept on the item: nothing is deleted). */
export interface DiscardMark {
  readonly by: string;
  /** The AWS principal that proved `by` (null locally, where `--as` names the actor). */
  readonly principal: string | null;
  readonly at: string;
  readonly reason: string;
}

/**
 * One accepted baseline upload. Every upload that was profiled is kept as a version with its
 * own profile object (reports/<model>/profiles/baseline-<id>.json), never overwritten; the
 * model's BASELINE pointer names the active one.
 */
export interface BaselineVersion {
  readonly model: string;
  /** The upload's batch id (hash of the key and its object version). */
  readonly id: string;
  readonly sourceKey: string;
  readonly profileKey: string;
  readonly rows: number;
  readonly columns: number;
  readonly uploadedAt: string;
  /** What made it: the S3 upload and, when S3 reported one, the principal that uploaded it. */
  readonly uploadedBy: string;
  readonly discarded?: DiscardMark;
}

export type BaselineAction = 'use-baseline' | 'discard-baseline' | 'discard-batch';

/** One audited decision about a model's baselines or batches. */
export interface BaselineAuditEntry {
  readonly model: string;
  readonly action: BaselineAction;
  /** The baseline id, or the batch key. */
  readonly target: string;
  readonly actor: string;
  readonly principal: string | null;
  readonly at: string;
  readonly reason: string;
  /** For use-baseline: the id that was active before. */
  readonly previous?: string;
}

/** Reasons are kept in the audit trail: one line, said, and short enough to read in a table. */
export const MAX_REASON_LENGTH = 500;

export function requireReason(reason: string, what: string): string {
  const r = reason.trim();
  if (!r) throw new ValidationError(`${what} needs a reason (--reason "…"), kept in the audit trail`);
  if (r.length > MAX_REASON_LENGTH || hasControlCharacters(r)) {
    throw new ValidationError(
      `the reason for ${what} must be one line of at most ${MAX_REASON_LENGTH} characters without control characters (got ${r.length} characters)`,
    );
  }
  return r;
}

/** The version `id` of a model's baselines, or a NotFoundError listing the ids there are. */
export function requireVersion<V extends BaselineVersion>(
  versions: readonly V[],
  model: string,
  id: string,
): V {
  const found = versions.find((v) => v.id === id);
  if (found) return found;
  const known = newestFirst(versions).map((v) => v.id);
  throw new NotFoundError(
    `no baseline "${id}" for ${model}; ${known.length ? `its baselines are ${known.join(', ')} (mlcycle drift baselines ${model})` : `it has none: profile one with mlcycle drift baseline ${model} <file>`}`,
  );
}

/** The active version: the one the pointer's profile key names (undefined for none). */
export function activeVersion(
  versions: readonly BaselineVersion[],
  activeProfileKey: string | undefined,
): BaselineVersion | undefined {
  return activeProfileKey ? versions.find((v) => v.profileKey === activeProfileKey) : undefined;
}

/** Whether `target` may become the active baseline: known, not discarded, not already active. */
export function checkUse(target: BaselineVersion, active: BaselineVersion | undefined): void {
  if (target.discarded) {
    throw new ConflictError(
      `baseline ${target.id} of ${target.model} was discarded by ${target.discarded.by} (${target.discarded.reason}); a discarded baseline is never used again: upload the file again to profile it anew`,
    );
  }
  if (active?.id === target.id) {
    throw new ConflictError(`baseline ${target.id} is already the active baseline of ${target.model}`);
  }
}

/** Whether `target` may be discarded: never the active one, never twice. */
export function checkDiscard(target: BaselineVersion, active: BaselineVersion | undefined): void {
  if (active?.id === target.id) {
    throw new ConflictError(
      `baseline ${target.id} is the active baseline of ${target.model} and cannot be discarded; make another one active first: mlcycle drift use-baseline ${target.model} <id> --reason "…"`,
    );
  }
  if (target.discarded) {
    throw new ConflictError(
      `baseline ${target.id} of ${target.model} was already discarded by ${target.discarded.by} at ${target.discarded.at}`,
    );
  }
}

/** Versions newest first (upload time, then id, so the order is total). */
export function newestFirst<V extends BaselineVersion>(versions: readonly V[]): V[] {
  return [...versions].sort((a, b) =>
    a.uploadedAt === b.uploadedAt ? (a.id < b.id ? 1 : -1) : a.uploadedAt < b.uploadedAt ? 1 : -1,
  );
}
