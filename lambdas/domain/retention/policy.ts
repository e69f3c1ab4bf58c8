import { compareVersions } from '../registry/semver.js';
import { canTransition } from '../registry/status.js';
import { isStageChange, type LedgerEntry, type StagePointer, type VersionRecord } from '../registry/types.js';

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
    const current = ledger.find((e) => isStageChange(e) && e.stage === p.stage && e.seq === p.ledgerSeq);
    add(current?.fromVersion, `rollback target of ${p.stage}`);
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
