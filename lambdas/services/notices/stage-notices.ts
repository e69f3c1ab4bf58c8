import { rolledBackNotice } from '../../domain/notices/notice.js';
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
  try {
    return await notifyOnce(deps, notice);
  } catch (err) {
    return { error: (err as Error).message };
  }
}
