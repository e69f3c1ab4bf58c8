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

/**
 * The first retention policy: per model keep the newest `keepLast` versions, whatever serves a
 * stage, whatever a one-step rollback would go back to, and anything still under review; archive
 * the rest (when their status allows it).
 */
export function retentionPlan(
  versions: readonly VersionRecord[],
  pointers: readonly StagePointer[],
  ledger: readonly LedgerEntry[],
  keepLast: number,
): RetentionDecision[] {
  const newestFirst = [...versions].sort((a, b) => compareVersions(b.version, a.version));
  const reasons = new Map<string, string[]>(newestFirst.map((v) => [v.version, []]));
  const add = (version: string | null | undefined, why: string) => {
    if (version) reasons.get(version)?.push(why);
  };
  newestFirst.slice(0, keepLast).forEach((v) => {
    add(v.version, `among the newest ${keepLast}`);
  });
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
  return newestFirst
    .filter((v) => v.status !== 'archived')
    .map((v) => {
      const why = reasons.get(v.version) ?? [];
      if (v.status === 'validating' || v.status === 'training') why.push('under review');
      const archivable = !why.length && canTransition(v.status, 'archived');
      return {
        version: v.version,
        action: archivable ? 'archive' : 'keep',
        reasons: archivable ? [`older than the newest ${keepLast}, not serving, not a rollback target`] : why,
        runId: v.lineage.runId,
      };
    });
}
