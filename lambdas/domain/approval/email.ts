import { boundText, neutralizeInline, neutralizeLines } from '../text.js';
import { esc } from './html.js';
import { type ApprovalRequest, askedChange } from './types.js';

/** The shape the notifier's Mailer sends (kept here so the domain imports no adapter). */
export interface ApprovalEmail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Longest requestor reason an email quotes; the page shows the rest. */
export const MAX_EMAIL_REASON_CHARS = 500;
const MAX_IDENTITY_CHARS = 120;

/**
 * Links in a requestor's text shown disabled (`https[:]//…`): mail clients turn URLs in text
 * into links, and the only link in an approval email must be the one mlcycle signed.
 */
function defang(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]{0,19}):\/\//gi, '$1[:]//');
}

/** The requestor's reason as an email quotes it: no control characters, bounded, links off. */
export function quotedReason(reason: string): string {
  return defang(boundText(neutralizeLines(reason).trim(), MAX_EMAIL_REASON_CHARS));
}

/**
 * The email one approver gets: their own link first, then what is asked and the gate summary,
 * and last the requestor's reason, marked as theirs and unverified — it is free text from the
 * person who wants the promotion, and must not read as instructions from mlcycle (nor push the
 * real link below "use https://… instead"). It says plainly that opening the link decides
 * nothing, since mail scanners and previews open it too.
 */
export function approvalEmail(
  request: ApprovalRequest,
  approver: string,
  link: string,
  kind: 'request' | 'reminder' = 'request',
): ApprovalEmail {
  const what = request.rollout
    ? `canary rollout of ${request.model} ${request.version} at ${request.rollout.percent} % on ${request.stage}`
    : `${request.model} ${request.version} → ${request.stage}`;
  const subject = `${kind === 'reminder' ? 'Reminder: ' : ''}Approval needed: ${what}`;
  const requestor = boundText(neutralizeInline(request.requestedBy), MAX_IDENTITY_CHARS);
  const verdict = request.gate.passed ? 'all required gates pass' : 'a required gate fails';
  const gateLines = request.gate.results.map(
    (r) => `  ${r.passed ? 'PASS' : 'FAIL'}  ${neutralizeInline(r.detail)}${r.required ? '' : ' (advisory)'}`,
  );
  const needs = `${request.quorum} of ${request.approvers.length} approvals are needed. This link is yours alone and expires ${request.expiresAt}.`;
  const reason = quotedReason(request.reason);
  const reasonHeading =
    'Reason given by the requestor (their own words, not checked by mlcycle; the link above is the only one to use):';
  const text = [
    `Your approval is asked to ${askedChange(request)}.`,
    ...(kind === 'reminder' ? ['You have not decided yet, and the request expires soon.'] : []),
    '',
    'Review and decide (opening the page decides nothing; you approve or reject on it):',
    link,
    '',
    needs,
    '',
    `Requested by: ${requestor}`,
    `Gates (${verdict}):`,
    ...(gateLines.length ? gateLines : ['  (this environment has no gates)']),
    ...(reason ? ['', reasonHeading, ...reason.split('\n').map((l) => `  | ${l}`)] : []),
    '',
  ].join('\n');
  const html = `<p>Your approval is asked to <b>${esc(askedChange(request))}</b>.</p>
${kind === 'reminder' ? '<p><b>You have not decided yet, and the request expires soon.</b></p>' : ''}
<p><a href="${esc(link)}">Review and decide</a> (opening the page decides nothing).</p>
<p style="color:#6b7385">${esc(needs)}</p>
<p>Requested by: ${esc(requestor)}<br>Gates: ${esc(verdict)}.</p>
${
  reason
    ? `<p style="color:#6b7385">${esc(reasonHeading)}</p>
<blockquote style="margin:0 0 0 8px;padding-left:10px;border-left:3px solid #c8cdd6;color:#3b4456;white-space:pre-wrap">${esc(reason)}</blockquote>`
    : ''
}`;
  return { to: [approver], subject, text, html };
}
