import type { ApprovalStore } from '../../adapters/approval/approval-store.js';
import type { Mailer } from '../../adapters/notifier.js';
import { approvalEmail } from '../../domain/approval/email.js';
import { approvalLink, expiresAtSeconds, normalizeEmail } from '../../domain/approval/request.js';
import { signLink } from '../../domain/approval/signing.js';
import type { ApprovalRequest } from '../../domain/approval/types.js';

/** What emailing approvers their links needs (requests and reminders alike). */
export interface ApprovalMailDeps {
  readonly store: ApprovalStore;
  readonly mailer: Mailer;
  readonly baseUrl: string;
  readonly key: () => Promise<Buffer>;
}

/**
 * Emails each approver who may decide (everyone listed but the requestor) a link of their own:
 * `<base>/approvals/<id>?t=<approverIndex>.<expiry>.<mac>`. Returns who was emailed.
 */
export async function emailApprovers(
  d: ApprovalMailDeps,
  request: ApprovalRequest,
  kind: 'request' | 'reminder',
  skip: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const key = await d.key();
  const requestor = normalizeEmail(request.requestedBy);
  const expiresAt = expiresAtSeconds(request);
  const emailed: string[] = [];
  for (const [index, approver] of request.approvers.entries()) {
    if (approver === requestor || skip.has(approver)) continue;
    const token = signLink(key, { requestId: request.requestId, approver, expiresAt }, index);
    await d.mailer.send(
      approvalEmail(request, approver, approvalLink(d.baseUrl, request.requestId, token), kind),
    );
    emailed.push(approver);
  }
  return emailed;
}
