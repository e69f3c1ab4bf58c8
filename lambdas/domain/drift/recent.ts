import type { DriftRecord } from './record.js';
import { SEVERITY_ORDER } from './severity.js';

/**
 * What "recent" means where a model's drift is summed up (the approval page): the batches
 * checked in the last `days` days, at most the newest `batches` of them. From the deployed
 * config (monitoring.approvalPage), never from the caller.
 */
export interface RecentWindow {
  readonly days: number;
  readonly batches: number;
}

/** A model's recent drift: its latest checked batch and its worst, and the uploads that failed. */
export interface RecentDrift {
  /** The start of the window (ISO). */
  readonly since: string;
  readonly window: RecentWindow;
  /** The newest batch that was checked (error records aside); null when none was. */
  readonly latest: DriftRecord | null;
  /** The most severe of the checked batches (of equals, the newest); null when none was. */
  readonly worst: DriftRecord | null;
  /** How many batches the window holds that were checked. */
  readonly checked: number;
  /** Uploads in the window that could not be checked, and the newest of them. */
  readonly failed: { readonly count: number; readonly latest: DriftRecord | null };
}

export function windowStart(now: Date, window: RecentWindow): Date {
  return new Date(now.getTime() - window.days * 86_400_000);
}

const rank = (r: DriftRecord) => SEVERITY_ORDER.indexOf(r.overallSeverity);

/**
 * The recent batches of a model, from its drift records: only batch checks (not baselines)
 * checked within the window and not after `now`, the newest `window.batches` of them. The worst
 * is chosen by overall severity whatever the latest says, so a small "insufficient data" batch
 * cannot hide an earlier "high"; a `degraded` batch counts like any other (its status is shown).
 */
export function recentDrift(records: readonly DriftRecord[], now: Date, window: RecentWindow): RecentDrift {
  const since = windowStart(now, window).toISOString();
  const until = now.toISOString();
  const inWindow = records
    .filter((r) => r.kind === 'batch' && r.checkedAt >= since && r.checkedAt <= until)
    .sort((a, b) => (a.checkedAt < b.checkedAt ? -1 : a.checkedAt > b.checkedAt ? 1 : 0))
    .slice(-Math.max(1, window.batches));
  const checked = inWindow.filter((r) => r.status !== 'error');
  const failed = inWindow.filter((r) => r.status === 'error');
  let worst: DriftRecord | null = null;
  for (const r of checked) if (!worst || rank(r) >= rank(worst)) worst = r;
  return {
    since,
    window,
    latest: checked.at(-1) ?? null,
    worst,
    checked: checked.length,
    failed: { count: failed.length, latest: failed.at(-1) ?? null },
  };
}
