import { esc } from './html.js';
import type { ApprovalRequest } from './types.js';

/** The shape the notifier's Mailer sends (kept here so the domain imports no adapter). */
export interface ApprovalEmail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/**
 * The email one approver gets: what is asked, the gate summary, and their own link. It says
 * plainly that opening the link decides nothing, since mail scanners and previews open it too.
 */
export function approvalEmail(
  request: ApprovalRequest,
  approver: string,
  link: string,
  kind: 'request' | 'reminder' = 'request',
): ApprovalEmail {
  const what = `${request.model} ${request.version} → ${request.stage}`;
  const subject = `${kind === 'reminder' ? 'Reminder: ' : ''}Approval needed: ${what}`;
  const verdict = request.gate.passed ? 'all required gates pass' : 'a required gate fails';
  const gateLines = request.gate.results.map(
    (r) => `  ${r.passed ? 'PASS' : 'FAIL'}  ${r.detail}${r.required ? '' : ' (advisory)'}`,
  );
  const needs = `${request.quorum} of ${request.approvers.length} approvals are needed. This link is yours alone and expires ${request.expiresAt}.`;
  const text = [
    `${request.requestedBy} asks to promote ${request.model} ${request.version} to ${request.stage}.`,
    ...(request.reason ? [`Reason: ${request.reason}`] : []),
    ...(kind === 'reminder' ? ['', 'You have not decided yet, and the request expires soon.'] : []),
    '',
    `Gates (${verdict}):`,
    ...(gateLines.length ? gateLines : ['  (this environment has no gates)']),
    '',
    'Review and decide (opening the page decides nothing; you approve or reject on it):',
    link,
    '',
    needs,
    '',
  ].join('\n');
  const html = `<p>${esc(request.requestedBy)} asks to promote <b>${esc(request.model)} ${esc(request.version)}</b> to <b>${esc(request.stage)}</b>.</p>
${request.reason ? `<p>Reason: ${esc(request.reason)}</p>` : ''}
${kind === 'reminder' ? '<p><b>You have not decided yet, and the request expires soon.</b></p>' : ''}
<p>Gates: ${esc(verdict)}.</p>
<p><a href="${esc(link)}">Review and decide</a> (opening the page decides nothing).</p>
<p style="color:#6b7385">${esc(needs)}</p>`;
  return { to: [approver], subject, text, html };
}
