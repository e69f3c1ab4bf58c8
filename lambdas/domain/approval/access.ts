import {
  ApprovalExpired,
  ConflictError,
  ForbiddenError,
  isMlcycleError,
  ValidationError,
} from '../errors.js';
import { messagePage } from './html.js';
import { checkMayDecide, decisionOf, isExpired } from './policy.js';
import type { LinkCheck } from './signing.js';
import type { ApprovalRequest, Decision } from './types.js';

/** A refused visit: the status and a plain page saying why, and what was decided if anything. */
export interface Refusal {
  readonly status: 400 | 403 | 404 | 409 | 410;
  readonly page: string;
}

export type Access =
  | { readonly ok: true; readonly approver: string }
  | { readonly ok: false; readonly refusal: Refusal };

const refuse = (status: Refusal['status'], title: string, message: string, detail = ''): Access => ({
  ok: false,
  refusal: { status, page: messagePage(title, message, detail) },
});

const what = (r: ApprovalRequest) => `${r.model} ${r.version} → ${r.stage}`;

export function expiredPage(request: ApprovalRequest): string {
  return messagePage(
    'This request has expired',
    `The approval window for ${what(request)} closed at ${request.expiresAt}; links for it no longer work.`,
    request.outcomeNote ?? 'Ask the requestor to start the promotion again if it is still wanted.',
  );
}

/** The execution that asked ended before a decision took effect: nothing will deploy. */
export function closedPage(request: ApprovalRequest): string {
  return messagePage(
    'This request is closed',
    `The pipeline run that asked to promote ${what(request)} has ended, so nothing will deploy; links for it no longer work.`,
    request.outcomeNote ?? 'Ask the requestor to start the promotion again if it is still wanted.',
  );
}

export function alreadyDecidedPage(request: ApprovalRequest, mine: Decision): string {
  const done = request.status === 'pending' ? '' : ` The request is ${request.status}.`;
  return messagePage(
    'You already decided',
    `You chose to ${mine.decision} ${what(request)} at ${mine.decidedAt}.${done}`,
    [mine.comment && `Your comment: ${mine.comment}`, request.outcomeNote].filter(Boolean).join(' · '),
  );
}

export function completedPage(request: ApprovalRequest): string {
  return messagePage(
    `Already ${request.status}`,
    `${what(request)} was ${request.status}${request.completedAt ? ` at ${request.completedAt}` : ''}; nothing more is needed.`,
    request.outcomeNote ?? '',
  );
}

/**
 * Who may use a link, decided on reads only (a GET must change nothing): 403 for a missing,
 * altered or foreign link and for the requestor; 404 for an unknown request; 410 once expired
 * or closed (its execution ended: nothing will deploy);
 * 409 when this approver already decided or the request is complete, saying what was decided.
 * The signature is checked before anything is said about the request's state.
 */
export function checkLinkAccess(
  request: ApprovalRequest | undefined,
  requestId: string,
  link: LinkCheck,
  decisions: readonly Decision[],
  now: Date,
): Access {
  if (!link.ok && link.reason === 'missing') {
    return refuse(
      403,
      'Link incomplete',
      'This link carries no signature. Open the link exactly as emailed.',
    );
  }
  if (!request) return refuse(404, 'No such request', `There is no approval request "${requestId}".`);
  if (!link.ok && link.reason !== 'expired') {
    return refuse(
      403,
      'Link not valid',
      'This link was altered or is not a link mlcycle sent. Use the link from your email.',
    );
  }
  if (request.status === 'closed') return { ok: false, refusal: { status: 410, page: closedPage(request) } };
  if (!link.ok || isExpired(request, now)) {
    return { ok: false, refusal: { status: 410, page: expiredPage(request) } };
  }
  const approver = link.claims.approver;
  const mine = decisionOf(decisions, approver);
  if (mine) return { ok: false, refusal: { status: 409, page: alreadyDecidedPage(request, mine) } };
  try {
    checkMayDecide(request, approver, now);
  } catch (err) {
    return { ok: false, refusal: refusalFor(err, request) };
  }
  return { ok: true, approver };
}

/** The page for a domain error raised while deciding (anything else is rethrown). */
export function refusalFor(err: unknown, request: ApprovalRequest): Refusal {
  if (err instanceof ApprovalExpired) {
    return { status: 410, page: request.status === 'closed' ? closedPage(request) : expiredPage(request) };
  }
  if (err instanceof ConflictError) {
    const earlier = err.details?.decision as Decision | undefined;
    if (earlier) return { status: 409, page: alreadyDecidedPage(request, earlier) };
    return {
      status: 409,
      page: request.status === 'pending' ? messagePage('Not recorded', err.message) : completedPage(request),
    };
  }
  if (err instanceof ValidationError) return { status: 400, page: messagePage('Not recorded', err.message) };
  if (err instanceof ForbiddenError) return { status: 403, page: messagePage('Not allowed', err.message) };
  if (isMlcycleError(err) && err.status === 404) {
    return { status: 404, page: messagePage('No such request', err.message) };
  }
  throw err;
}
