import type { EmailMessage } from '../../adapters/notifier.js';
import { esc } from './html.js';
import type { ApprovalRequest } from './types.js';

/** The email one approver gets: what is asked, the gate summary, and their own link. */
export function approvalEmail(
  request: ApprovalRequest,
  approver: string,
  link: string,
  reminder = false,
): EmailMessage {
  const gates = request.gate.results
    .map((r) => `  ${r.passed ? 'PASS' : 'FAIL'}  ${r.detail}${r.required ? '' : ' (advisory)'}`)
    .join('\n');
  const subject = `${reminder ? 'Reminder: ' : ''}Approval needed: ${request.model} ${request.version} → ${request.stage}`;
  const text = [
    `${request.requestedBy} asks to promote ${request.model} ${request.version} to ${request.stage}.`,
    request.reason ? `Reason: ${request.reason}` : '',
    '',
    `Gates (${request.gate.passed ? 'all required gates pass' : 'a required gate fails'}):`,
    gates || '  (none)',
    '',
    `Review and decide (opening the page decides nothing; you approve or reject on it):`,
    link,
    '',
    `${request.quorum} of ${request.approvers.length} approvals are needed. The link is yours alone and expires ${request.expiresAt}.`,
  ]
    .filter((l, i, all) => l !== '' || all[i - 1] !== '')
    .join('\n');
  const html = `<p>${esc(request.requestedBy)} asks to promote <b>${esc(request.model)} ${esc(request.version)}</b> to <b>${esc(request.stage)}</b>.</p>
${request.reason ? `<p>Reason: ${esc(request.reason)}</p>` : ''}
<p><a href="${esc(link)}">Review and decide</a> (opening the page decides nothing).</p>
<p style="color:#6b7385">${esc(request.quorum)} of ${esc(request.approvers.length)} approvals needed; your link expires ${esc(request.expiresAt)}.</p>`;
  return { to: [approver], subject, text, html };
}
