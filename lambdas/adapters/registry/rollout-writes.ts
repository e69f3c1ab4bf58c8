import type { RolloutRecord } from '../../contracts/rollout-record.js';
import { variantsInForce } from '../../contracts/rollout-record.js';
import { ConflictError } from '../../domain/errors.js';
import type { LedgerEntry, RolloutLedgerEvent, StagePointer } from '../../domain/registry/types.js';
import { keys } from './keys.js';

/** Transaction items RolloutStore writes: a new item, and a change's `rollout` ledger entry. */
export function putNew(tableName: string, model: string, sk: string, entity: string, item: object) {
  return {
    Put: {
      TableName: tableName,
      Item: { PK: keys.model(model), SK: sk, entity, ...item },
      ConditionExpression: 'attribute_not_exists(SK)',
    },
  };
}

/**
 * The `rollout` ledger entry of a change (keyed after the stage change in force, in revision
 * order): the event, the rollout id, the variants in force after it, an automatic abort's decision.
 */
export function rolloutLedgerPut(
  tableName: string,
  record: RolloutRecord,
  seq: number,
  event: RolloutLedgerEvent['event'],
  actor: string,
  reason: string,
  at: string,
  decision?: unknown,
) {
  const entry: LedgerEntry = {
    model: record.model,
    stage: record.stage,
    seq,
    action: 'rollout',
    fromVersion: record.controlVersion,
    toVersion: record.canaryVersion,
    actor,
    reason,
    at,
    evidence: {
      ...(record.approval ? { requestId: record.approval.requestId } : {}),
      rollout: {
        event,
        rolloutId: record.rolloutId,
        variants: variantsInForce(record),
        ...(decision === undefined ? {} : { decision }),
      },
    },
  };
  return putNew(
    tableName,
    record.model,
    keys.ledgerRollout(record.stage, seq, record.rolloutId, record.revision),
    'ledger',
    entry,
  );
}

export function seqOf(pointer: StagePointer | undefined): number {
  return pointer?.ledgerSeq ?? 0;
}

export function staleRevision(now: RolloutRecord, expected: number): ConflictError {
  const state = now.status === 'active' ? `now at revision ${now.revision}` : `now ${now.status}`;
  return new ConflictError(
    `rollout ${now.rolloutId} of ${now.model} ${now.stage} changed since it was read (revision ${expected}, ${state}); read it again (\`mlcycle rollout status ${now.model} --stage ${now.stage}\`) and retry`,
  );
}
