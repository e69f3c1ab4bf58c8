import { ValidationError } from '../errors.js';
import { isStageChange, type LedgerEntry, type StagePointer } from './types.js';

/**
 * Which version a rollback moves a stage to: the named one, or the newest version that served
 * the stage before the current one and was not itself rolled back from afterwards. So a second
 * rollback keeps walking back through history instead of bouncing back onto the version the
 * first one fled (which would also skip that version's approvals). Refused, with the reason,
 * when there is nothing to go back to.
 */
export function rollbackTarget(
  model: string,
  stage: string,
  pointer: StagePointer | undefined,
  ledger: readonly LedgerEntry[],
  to?: string,
): string {
  if (!pointer)
    throw new ValidationError(`nothing serves ${model} in ${stage}, so there is nothing to roll back`);
  if (to) {
    if (to === pointer.version) throw new ValidationError(`${model} ${to} already serves ${stage}`);
    return to;
  }
  const changes = ledger
    .filter((e) => isStageChange(e) && e.seq <= pointer.ledgerSeq)
    .sort((a, b) => b.seq - a.seq);
  const rolledBackFrom = new Set<string>();
  for (const e of changes) {
    if (e.toVersion !== pointer.version && !rolledBackFrom.has(e.toVersion)) return e.toVersion;
    if (e.action === 'rollback' && e.fromVersion) rolledBackFrom.add(e.fromVersion);
  }
  if (!rolledBackFrom.size) {
    throw new ValidationError(
      `${model} ${pointer.version} is the first version to serve ${stage}; there is no earlier one to roll back to (use --to <version>)`,
    );
  }
  throw new ValidationError(
    `${model} ${pointer.version} serves ${stage} and every earlier version was rolled back from (${[...rolledBackFrom].join(', ')}); choose one with --to <version>`,
  );
}
