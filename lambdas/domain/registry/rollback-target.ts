import { ValidationError } from '../errors.js';
import { isStageChange, type LedgerEntry, type StagePointer } from './types.js';

/**
 * Whether `version` may be rolled back onto the stage: it served the stage before (a stage
 * change to it, up to the one in force) and no promotion of it to the stage was rejected since
 * it last served. Returns why not, or undefined. Rolling back skips gates and approvals, so it
 * may only return to what those already let through for this stage.
 */
export function rollbackRefusal(
  model: string,
  stage: string,
  pointer: StagePointer,
  ledger: readonly LedgerEntry[],
  version: string,
): string | undefined {
  const served = ledger
    .filter((e) => isStageChange(e) && e.seq <= pointer.ledgerSeq && e.toVersion === version)
    .sort((a, b) => b.seq - a.seq)[0];
  const promote = `use \`mlcycle models promote ${model} ${version} --stage ${stage}\` to take it through the gates and approvals`;
  if (!served) return `${model} ${version} never served ${stage}, so it is not a rollback target; ${promote}`;
  const rejected = ledger.find(
    (e) => e.action === 'reject' && e.toVersion === version && e.seq >= served.seq,
  );
  if (rejected) {
    return `${model} ${version} was rejected for ${stage} by ${rejected.actor} at ${rejected.at} after it last served; ${promote}`;
  }
  return undefined;
}

/**
 * Which version a rollback moves a stage to: the named one if it may be rolled back onto (see
 * rollbackRefusal), or the newest version that served the stage before the current one, was not
 * rolled back from afterwards and not rejected since. So a second rollback keeps walking back
 * through history instead of bouncing back onto the version the first one fled. Refused, with
 * the reason, when there is nothing to go back to.
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
    const refusal = rollbackRefusal(model, stage, pointer, ledger, to);
    if (refusal) throw new ValidationError(refusal);
    return to;
  }
  const changes = ledger
    .filter((e) => isStageChange(e) && e.seq <= pointer.ledgerSeq)
    .sort((a, b) => b.seq - a.seq);
  const rolledBackFrom = new Set<string>();
  const skipped = new Set<string>();
  for (const e of changes) {
    if (e.toVersion !== pointer.version && !rolledBackFrom.has(e.toVersion)) {
      if (!rollbackRefusal(model, stage, pointer, ledger, e.toVersion)) return e.toVersion;
      skipped.add(e.toVersion);
    }
    if (e.action === 'rollback' && e.fromVersion) rolledBackFrom.add(e.fromVersion);
  }
  if (!rolledBackFrom.size && !skipped.size) {
    throw new ValidationError(
      `${model} ${pointer.version} is the first version to serve ${stage}; there is no earlier one to roll back to`,
    );
  }
  const why = [
    rolledBackFrom.size ? `rolled back from (${[...rolledBackFrom].join(', ')})` : '',
    skipped.size ? `rejected since (${[...skipped].join(', ')})` : '',
  ]
    .filter(Boolean)
    .join(' or ');
  throw new ValidationError(
    `${model} ${pointer.version} serves ${stage} and every earlier version was ${why}; choose one that served before with --to <version>, or promote one`,
  );
}
