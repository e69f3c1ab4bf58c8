import type { Metrics } from '../../contracts/pipeline.js';
import { type RolloutStatusView, rolloutEvidenceSection } from '../rollouts/status-html.js';
import { type DriftSectionInput, driftSection } from './drift-section.js';
import { esc, page } from './html.js';
import { type SweepSectionInput, sweepSection } from './sweep-section.js';
import { type ApprovalRequest, askedChange, type Decision } from './types.js';

export interface DecisionPageInput {
  readonly request: ApprovalRequest;
  readonly decisions: readonly Decision[];
  readonly approver: string;
  /** The link token and the form's anti-forgery value, posted back with the decision. */
  readonly linkToken: string;
  readonly formToken: string;
  readonly modelCard: Record<string, unknown> | null;
  /** The model's recent drift: the worst batch of the window beside the latest. */
  readonly drift: DriftSectionInput;
  /** When the candidate is the best trial of a sweep: how it was chosen. */
  readonly sweep?: SweepSectionInput | null;
  /** The rollout whose evidence asked for this promotion (its canary is the candidate), if any. */
  readonly rollout?: RolloutStatusView | null;
}

function rolloutSection(view: RolloutStatusView): string {
  return `<section><h2>Rollout ${esc(view.rolloutId)}: the evidence behind this request</h2>
<p class="muted">${esc(view.batches)} monitoring batch(es) aggregated, ${esc(view.state)}; the figures are live players of ${esc(view.stage)} on each variant.</p></section>
${rolloutEvidenceSection(view)}`;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(4) : '—');

function gatesTable(request: ApprovalRequest): string {
  if (!request.gate.results.length) return '<p class="muted">This environment has no gates.</p>';
  const rows = request.gate.results
    .map(
      (
        r,
      ) => `<tr><td>${esc(r.metric)}${r.required ? '' : ' <span class="badge">advisory</span>'}${r.metric.startsWith('reported:') ? ' <span class="badge">reported by the trainer, not measured</span>' : ''}</td>
<td>${esc(r.kind === 'relative' ? `${r.operator} serving − margin` : r.operator)}</td>
<td>${r.kind === 'relative' && r.servingValue == null ? '—' : num(r.threshold)}</td><td>${num(r.value)}</td>
<td class="${r.passed ? 'pass' : 'fail'}">${r.passed ? 'pass' : 'fail'}</td><td class="muted">${esc(r.detail)}</td></tr>`,
    )
    .join('');
  return `<table><tr><th>metric</th><th>rule</th><th>threshold</th><th>value</th><th>result</th><th>detail</th></tr>${rows}</table>`;
}

function comparison(request: ApprovalRequest): string {
  const serving = request.serving;
  const names = [
    ...new Set([...Object.keys(request.metrics), ...Object.keys(serving?.metrics ?? {})]),
  ] as (keyof Metrics)[];
  const head = `<tr><th>metric</th><th>candidate ${esc(request.version)}</th><th>${
    serving ? `serving ${esc(serving.version)}` : 'serving'
  }</th><th>change</th></tr>`;
  const rows = names
    .map((m) => {
      const c = request.metrics[m];
      const s = serving?.metrics[m];
      const delta =
        typeof c === 'number' && typeof s === 'number' ? (c - s >= 0 ? '+' : '') + (c - s).toFixed(4) : '—';
      return `<tr><td>${esc(m)}</td><td>${num(c)}</td><td>${num(s)}</td><td>${esc(delta)}</td></tr>`;
    })
    .join('');
  const note = serving
    ? `<p class="muted">Serving since ${esc(serving.promotedAt)}${serving.promotedBy ? `, promoted by ${esc(serving.promotedBy)}` : ''}.</p>`
    : '<p class="muted">Nothing serves this stage yet: this would be its first version.</p>';
  return `<table>${head}${rows}</table>${note}`;
}

function modelCardSection(card: Record<string, unknown> | null): string {
  if (!card) return '<p class="muted">No model card was found for this run.</p>';
  const rows = Object.entries(card)
    .filter(([k]) => !['model', 'runId'].includes(k))
    .map(([k, v]) => {
      let value: string;
      if (Array.isArray(v)) {
        value = `<ul>${v.map((x) => `<li>${esc(typeof x === 'object' ? Object.values(x as object).join(': ') : x)}</li>`).join('')}</ul>`;
      } else if (v && typeof v === 'object') {
        value = Object.entries(v as Record<string, unknown>)
          .map(([a, b]) => `${esc(a)}: <b>${esc(typeof b === 'number' ? Number(b.toFixed(4)) : b)}</b>`)
          .join(' · ');
      } else value = esc(v);
      return `<tr><th>${esc(k)}</th><td>${value}</td></tr>`;
    })
    .join('');
  return `<table>${rows}</table>`;
}

/** The page an approver sees from the emailed link. Rendering it changes nothing. */
export function renderDecisionPage(input: DecisionPageInput): string {
  const { request } = input;
  const decided = input.decisions.length
    ? `<table><tr><th>who</th><th>decision</th><th>comment</th><th>when</th></tr>${input.decisions
        .map(
          (d) =>
            `<tr><td>${esc(d.approver)}</td><td class="${d.decision === 'approve' ? 'pass' : 'fail'}">${esc(d.decision)}</td><td>${esc(d.comment)}</td><td class="muted">${esc(d.decidedAt)}</td></tr>`,
        )
        .join('')}</table>`
    : '<p class="muted">Nobody has decided yet.</p>';
  const approvals = input.decisions.filter((d) => d.decision === 'approve').length;
  return page(
    `Approve ${request.model} ${request.version} for ${request.stage}?`,
    `<section><h1>${esc(request.model)} <code>${esc(request.version)}</code> → ${esc(request.stage)}</h1>
${request.rollout ? `<p><b>${esc(askedChange(request))}</b>: the rest of the players keep the version serving ${esc(request.stage)}.</p>\n` : ''}<p>Requested by <b>${esc(request.requestedBy)}</b>${request.reason ? `: “${esc(request.reason)}”` : ''}</p>
<p class="muted">Run ${esc(request.runId)} · needs ${esc(request.quorum)} of ${esc(request.approvers.length)} approvals (${esc(approvals)} so far) · link expires ${esc(request.expiresAt)} · you are ${esc(input.approver)}</p></section>
<section><h2>Gates — ${request.gate.passed ? '<span class="pass">all required gates pass</span>' : '<span class="fail">a required gate fails</span>'}</h2>${gatesTable(request)}</section>
<section><h2>Candidate vs the version serving ${esc(request.stage)}</h2>${comparison(request)}</section>
${input.rollout ? rolloutSection(input.rollout) : ''}
${input.sweep ? `<section><h2>How this candidate was chosen</h2>${sweepSection(input.sweep)}</section>` : ''}
<section><h2>Model card</h2>${modelCardSection(input.modelCard)}</section>
<section><h2>Drift</h2>${driftSection(input.drift)}</section>
<section><h2>Decisions</h2>${decided}</section>
<section><h2>Your decision</h2>
<form method="post" action="${esc(request.requestId)}">
<input type="hidden" name="t" value="${esc(input.linkToken)}">
<input type="hidden" name="csrf" value="${esc(input.formToken)}">
<label for="comment">Comment (required to reject)</label>
<textarea id="comment" name="comment" placeholder="Why approve or reject?"></textarea>
<p><button class="approve" type="submit" name="decision" value="approve">Approve</button>
<button class="reject" type="submit" name="decision" value="reject">Reject</button></p>
</form></section>`,
  );
}
