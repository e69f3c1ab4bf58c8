import type { DriftSummary } from '../../contracts/drift-summary.js';
import { measuredLine } from '../drift/measured.js';
import type { RecentDrift } from '../drift/recent.js';
import type { DriftRecord } from '../drift/record.js';
import { esc } from './html.js';

/** What the decision page's drift section shows. */
export interface DriftSectionInput {
  /** The model's recent batches (its drift records in the configured window). */
  readonly recent: RecentDrift;
  /** latest.json: said of the latest check when the window holds none. */
  readonly summary: DriftSummary | null;
  /** The address that opens a batch's report through this page's signed link. */
  readonly reportHref: (batchId: string) => string;
}

/** A batch's report, opened through the page's own link: `<requestId>?t=<token>&report=<batchId>`. */
export function reportHref(requestId: string, linkToken: string, batchId: string): string {
  return `${encodeURIComponent(requestId)}?t=${encodeURIComponent(linkToken)}&report=${encodeURIComponent(batchId)}`;
}

/** "the last 7 days", "the last day". */
export const lastDays = (days: number) => (days === 1 ? 'the last day' : `the last ${days} days`);

const num = (v: number | null) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(4) : '—');
const sev = (s: string) => `<span class="badge sev-${esc(s)}">${esc(s)}</span>`;

function statusNote(r: DriftRecord): string {
  if (r.status === 'degraded') {
    const why = r.warnings?.[0] ?? `${r.skippedRows ?? 'some'} rows skipped`;
    return ` · <span class="badge sev-medium">degraded</span> <span class="muted">${esc(why)}</span>`;
  }
  if (r.status === 'insufficient-data')
    return ` · <span class="badge">insufficient data</span> <span class="muted">too few values to judge most columns</span>`;
  return '';
}

function batchBlock(
  which: 'worst' | 'latest' | 'both',
  r: DriftRecord,
  href: DriftSectionInput['reportHref'],
) {
  const title = {
    worst: 'Worst recent batch',
    latest: 'Latest batch',
    both: 'Latest batch, also the worst recent one',
  }[which];
  const drifted = r.features.filter((f) => f.severity !== 'none');
  const table = drifted.length
    ? `<table><tr><th>feature</th><th>decided by</th><th>score</th><th>severity</th><th>what was measured</th></tr>${drifted
        .map(
          (f) =>
            `<tr><td>${esc(f.name)}</td><td>${esc(f.method)}</td><td>${num(f.score)}</td><td>${sev(f.severity)}</td><td class="muted">${f.measured ? esc(measuredLine(f.measured)) : '—'}</td></tr>`,
        )
        .join('')}</table>`
    : '<p class="muted">No feature drifted in this batch.</p>';
  const link = r.reportUri
    ? ` · <a href="${esc(href(r.batchId))}">open its report</a>`
    : ' · <span class="muted">no report</span>';
  return `<div class="batch" id="drift-${which}"><h3>${title}: ${sev(r.overallSeverity)}</h3>
<p><code>${esc(r.batchKey)}</code> checked <time datetime="${esc(r.checkedAt)}">${esc(r.checkedAt)}</time> · ${esc(r.rows)} rows · ${esc(Math.round(r.driftedShare * 100))}% of features drifted${statusNote(r)}${link}</p>${table}</div>`;
}

/**
 * The drift section: the worst batch of the window beside the latest one (a small "insufficient
 * data" latest batch must not hide an earlier "high"), each with its time, status and a link to
 * its report; uploads that could not be checked are counted.
 */
export function driftSection(input: DriftSectionInput): string {
  const { recent, summary } = input;
  const window = `${esc(lastDays(recent.window.days))} (since ${esc(recent.since)}, at most ${esc(recent.window.batches)} batches)`;
  const failed = recent.failed.latest
    ? `<p class="fail">${esc(recent.failed.count)} upload${recent.failed.count === 1 ? '' : 's'} in ${window} could not be checked; the latest, <code>${esc(recent.failed.latest.batchKey)}</code> at ${esc(recent.failed.latest.checkedAt)}: ${esc(recent.failed.latest.error ?? 'no reason recorded')}</p>`
    : '';
  const { worst, latest } = recent;
  if (!worst || !latest) {
    const before = summary
      ? `<p>No batch was checked in ${window}. The latest check before it, <code>${esc(summary.batchKey)}</code> at ${esc(summary.checkedAt)}, found ${sev(summary.overallSeverity)} (${esc(summary.status)}).</p>`
      : '<p class="muted">No drift data yet for this model.</p>';
    return before + failed;
  }
  const blocks =
    worst === latest
      ? batchBlock('both', latest, input.reportHref)
      : batchBlock('worst', worst, input.reportHref) + batchBlock('latest', latest, input.reportHref);
  return `<p class="muted">${esc(recent.checked)} batch${recent.checked === 1 ? '' : 'es'} checked in ${window}.</p>${blocks}${failed}`;
}
