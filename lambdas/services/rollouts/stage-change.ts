import type { Registry } from '../../adapters/registry/registry.js';
import type { RolloutRecord } from '../../contracts/rollout-record.js';
import { ConflictError } from '../../domain/errors.js';
import type { LedgerEntry } from '../../domain/registry/types.js';

/**
 * When a stage moves (a promotion or a rollback) while a rollout runs on it, the rollout ends:
 * `promoted` if the stage now serves its canary, `superseded` otherwise, with a ledger entry
 * naming the change that ended it. The caller then publishes the manifest without the rollout
 * block. Returns the ended rollout, if there was one. Safe to repeat: a rollout already ended
 * is not found active.
 */
export async function endRolloutOnStageChange(
  registry: Pick<Registry, 'rollouts'>,
  entry: Pick<LedgerEntry, 'model' | 'stage' | 'seq' | 'toVersion' | 'action' | 'actor' | 'at'>,
): Promise<RolloutRecord | undefined> {
  // An evidence merge may land between the read and the end: read again and retry.
  for (let attempt = 1; ; attempt++) {
    const active = await registry.rollouts.active(entry.model, entry.stage);
    if (!active) return undefined;
    // A redelivered Deploy of the change the rollout started on does not end it.
    if (entry.seq <= (active.controlLedgerSeq ?? -1)) return undefined;
    const promoted = entry.action === 'promote' && entry.toVersion === active.canaryVersion;
    try {
      return await registry.rollouts.end(entry.model, entry.stage, active.revision, {
        at: entry.at,
        actor: entry.actor,
        kind: promoted ? 'promoted' : 'superseded',
        reason: promoted
          ? `${entry.toVersion} promoted to ${entry.stage} (ledger #${entry.seq})`
          : `${entry.stage} moved to ${entry.toVersion} by a ${entry.action} (ledger #${entry.seq}) during the rollout`,
      });
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 5) throw err;
    }
  }
}
