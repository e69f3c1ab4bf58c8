import { ValidationError } from '../errors.js';
import { isStageChange, type LedgerEntry, type StagePointer } from './types.js';

/**
 * Which version a rollback moves a stage to: the named one, or the version that served before
 * the current one (the current ledger entry's `fromVersion`). Refused, with the reason, when
 * there is nothing to go back to.
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
  const current = ledger.find((e) => isStageChange(e) && e.seq === pointer.ledgerSeq);
  const previous = current?.fromVersion;
  if (!previous) {
    throw new ValidationError(
      `${model} ${pointer.version} is the first version to serve ${stage}; there is no earlier one to roll back to (use --to <version>)`,
    );
  }
  return previous;
}
