import type { RolloutRecord } from '../../contracts/rollout-record.js';
import { type Notice, rolledBackNotice, rolloutEndedNotice } from '../../domain/notices/notice.js';
import type { LedgerEntry } from '../../domain/registry/types.js';
import { noticeLinks } from './execution-notices.js';
import { type NoticeDeps, type NoticeOutcome, notifyOnce } from './notify.js';

export interface StageNoticeDeps extends NoticeDeps {
  readonly apiBaseUrl: string;
  readonly clientBaseUrl: string;
}

/**
 * Tells a rollback once, after it happened. The rollback stands whatever becomes of its notice:
 * a failure to send is returned (and logged by the caller), never thrown, so a caller retrying
 * an HTTP 500 cannot roll back twice.
 */
export async function noticeRollback(
  deps: StageNoticeDeps,
  entry: LedgerEntry,
): Promise<NoticeOutcome | { error: string } | null> {
  const notice = rolledBackNotice(
    {
      model: entry.model,
      stage: entry.stage,
      fromVersion: entry.fromVersion,
      toVersion: entry.toVersion,
      ledgerSeq: entry.seq,
      actor: entry.actor,
      reason: entry.reason,
    },
    noticeLinks(deps, entry.model, entry.stage),
  );
  return sendAfterTheFact(deps, notice);
}

/** Tells a rollout's end once (an abort by a person; the guard's own abort alerts instead). */
export function noticeRolloutEnded(
  deps: StageNoticeDeps,
  rollout: RolloutRecord,
): Promise<NoticeOutcome | { error: string } | null> {
  const ended = rollout.ended;
  if (!ended) return Promise.resolve(null);
  const notice = rolloutEndedNotice(
    {
      model: rollout.model,
      stage: rollout.stage,
      rolloutId: rollout.rolloutId,
      canaryVersion: rollout.canaryVersion,
      controlVersion: rollout.controlVersion,
      kind: ended.kind,
      actor: ended.actor,
      reason: ended.reason,
    },
    noticeLinks(deps, rollout.model, rollout.stage),
  );
  return sendAfterTheFact(deps, notice);
}

/** The change it tells of stands whatever becomes of the notice: a failure is returned, not thrown. */
async function sendAfterTheFact(
  deps: StageNoticeDeps,
  notice: Notice,
): Promise<NoticeOutcome | { error: string } | null> {
  try {
    return await notifyOnce(deps, notice);
  } catch (err) {
    return { error: (err as Error).message };
  }
}
