import { rollbackTarget } from '../registry/rollback-target.js';
import { compareVersions } from '../registry/semver.js';
import { canTransition } from '../registry/status.js';
import type { LedgerEntry, StagePointer, VersionRecord } from '../registry/types.js';

/** The version a rollback of this stage would move to, or undefined when there is none. */
function nextRollback(pointer: StagePointer, stageLedger: readonly LedgerEntry[]): string | undefined {
  try {
    return rollbackTarget(pointer.model, pointer.stage, pointer, stageLedger);
  } catch {
    return undefined;
  }
}

export interface RetentionDecision {
  readonly version: string;
  readonly action: 'keep' | 'archive';
  readonly reasons: string[];
  readonly runId: string;
}

/** The retention rules of the deployed config's `archival` section. */
export interface RetentionRules {
  /** Versions younger than maxAgeDays among the newest keepLast are kept (by semver). */
  readonly keepLastVersions: number;
  /** Versions created longer ago than this are archived (unset: no age rule). */
  readonly maxAgeDays?: number | undefined;
  /** Versions kept besides whatever serves a stage or is a rollback target; at least 1. */
  readonly floor: number;
}

const DAY_MS = 86_400_000;

interface Draft {
  readonly v: VersionRecord;
  action: 'keep' | 'archive';
  reasons: string[];
}

/** A version some players are served outside the stage pointers: a rollout's variant. */
export interface AlsoServing {
  readonly version: string;
  readonly why: string;
}

/**
 * Whatever serves a stage, serves players in a rollout, or is where a rollback of a stage would
 * go: never archived, outside the floor.
 */
export function protectedVersions(
  pointers: readonly StagePointer[],
  ledger: readonly LedgerEntry[],
  alsoServing: readonly AlsoServing[] = [],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (version: string | undefined, why: string) => {
    if (version) out.set(version, [...(out.get(version) ?? []), why]);
  };
  for (const a of alsoServing) add(a.version, a.why);
  for (const p of pointers) {
    add(p.version, `serving ${p.stage}`);
    // Where `mlcycle models rollback` would go: after a rollback that is not the version just
    // fled (the current entry's fromVersion) but the one before it, so ask the rollback rule.
    add(
      nextRollback(
        p,
        ledger.filter((e) => e.stage === p.stage),
      ),
      `rollback target of ${p.stage}`,
    );
  }
  return out;
}

/**
 * The versions the floor counts: not archived, not serving, not a rollback target (whatever
 * their status, versions under review included). A cleanup never leaves fewer of them than
 * `floor`, or than there were before it when there were fewer already (docs/operations.md).
 */
export function floorPool(
  versions: readonly VersionRecord[],
  pointers: readonly StagePointer[],
  ledger: readonly LedgerEntry[],
  alsoServing: readonly AlsoServing[] = [],
): VersionRecord[] {
  const kept = protectedVersions(pointers, ledger, alsoServing);
  return versions.filter((v) => v.status !== 'archived' && !kept.has(v.version));
}

/**
 * The retention plan of one model, age and count together. A version is *due* when it was
 * created more than `maxAgeDays` before `now` OR is beyond the newest `keepLastVersions` (by
 * semver, archived versions included). A due version is archived unless it serves a stage, is a
 * stage's rollback target, is still under review (training, validating), or archiving it would
 * leave fewer than `floor` versions in the floor pool (see floorPool): then the newest due
 * versions are held back ("kept: floor of N") and the oldest are archived.
 */
export function retentionPlan(
  versions: readonly VersionRecord[],
  pointers: readonly StagePointer[],
  ledger: readonly LedgerEntry[],
  rules: RetentionRules,
  now: Date,
  alsoServing: readonly AlsoServing[] = [],
): RetentionDecision[] {
  const { keepLastVersions: keepLast, maxAgeDays, floor } = rules;
  const newestFirst = [...versions].sort((a, b) => compareVersions(b.version, a.version));
  const rank = new Map(newestFirst.map((v, i) => [v.version, i]));
  const kept = protectedVersions(pointers, ledger, alsoServing);
  const cutoff = maxAgeDays === undefined ? undefined : now.getTime() - maxAgeDays * DAY_MS;

  const live = newestFirst.filter((v) => v.status !== 'archived');
  const decisions = live.map((v): Draft => {
    const guard = [...(kept.get(v.version) ?? [])];
    if (v.status === 'validating' || v.status === 'training') guard.push('under review');
    const due: string[] = [];
    const created = Date.parse(v.createdAt);
    if (cutoff !== undefined && created < cutoff)
      due.push(`older than ${maxAgeDays} days (created ${v.createdAt.slice(0, 10)})`);
    if ((rank.get(v.version) ?? 0) >= keepLast) due.push(`beyond the newest ${keepLast}`);
    if (!guard.length && due.length && !canTransition(v.status, 'archived'))
      guard.push(`status ${v.status} cannot be archived`);
    if (guard.length || !due.length) {
      const why = guard.length ? guard : [`among the newest ${keepLast}`];
      if (!guard.length && cutoff !== undefined) why.push(`younger than ${maxAgeDays} days`);
      return { v, action: 'keep', reasons: why };
    }
    return { v, action: 'archive', reasons: due };
  });

  // The floor: of the pool, at most `pool - floor` go; the newest due ones are held back.
  const pool = decisions.filter((d) => !kept.has(d.v.version)).length;
  let allowed = Math.max(0, pool - floor);
  const oldestFirst = decisions.filter((d) => d.action === 'archive').reverse();
  for (const d of oldestFirst) {
    if (allowed > 0) {
      allowed--;
      continue;
    }
    d.reasons = [`kept: floor of ${floor}`, ...d.reasons.map((r) => `would be ${r}`)];
    d.action = 'keep';
  }
  return decisions.map((d) => ({
    version: d.v.version,
    action: d.action,
    reasons: d.reasons,
    runId: d.v.lineage.runId,
  }));
}
