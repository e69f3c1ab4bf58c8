import { describe, expect, it } from 'vitest';
import { approvalEmail } from '../../../lambdas/domain/approval/email.js';
import {
  buildApprovalRequest,
  expiresAtSeconds,
  reminderDue,
  requestIdFor,
} from '../../../lambdas/domain/approval/request.js';
import { ValidationError } from '../../../lambdas/domain/errors.js';
import { ask, NOW, request } from './fixtures.js';

describe('buildApprovalRequest', () => {
  it('normalises and de-duplicates approvers, keeps config order, and sets the expiry', () => {
    const r = buildApprovalRequest(
      ask({ approvers: ['B@studio.test', 'a@studio.test', ' b@STUDIO.test', ''] }),
      null,
      NOW,
    );
    expect(r.approvers).toEqual(['b@studio.test', 'a@studio.test']);
    expect(r.status).toBe('pending');
    expect(r.createdAt).toBe(NOW.toISOString());
    expect(r.expiresAt).toBe('2030-03-04T12:00:00.000Z');
    expect(expiresAtSeconds(r)).toBe(NOW.getTime() / 1000 + 72 * 3600);
    expect(r.taskToken).toBe(ask().taskToken);
  });

  it('derives the id from the task token: the same attempt finds its request, a new one gets a new id', () => {
    const a = buildApprovalRequest(ask(), null, NOW);
    const again = buildApprovalRequest(ask(), null, new Date(NOW.getTime() + 5000));
    const next = buildApprovalRequest(ask({ taskToken: 'another-token' }), null, NOW);
    expect(again.requestId).toBe(a.requestId);
    expect(next.requestId).not.toBe(a.requestId);
    expect(a.requestId).toBe(requestIdFor(ask().taskToken));
    expect(a.requestId).toMatch(/^apr-[A-Za-z0-9_-]{20}$/);
    expect(a.requestId).not.toContain(ask().taskToken.slice(0, 8));
  });

  it('fails when the quorum cannot be reached without the requestor', () => {
    const selfListed = ask({
      approvers: ['a@studio.test', 'data.scientist@studio.test'],
      quorum: 2,
    });
    expect(() => buildApprovalRequest(selfListed, null, NOW)).toThrow(ValidationError);
    expect(() => buildApprovalRequest(selfListed, null, NOW)).toThrow(
      /cannot be reached.*data\.scientist@studio\.test asked/i,
    );
    expect(() => buildApprovalRequest(ask({ quorum: 4 }), null, NOW)).toThrow(
      /quorum 4 .* cannot be reached/,
    );
    expect(() => buildApprovalRequest(ask({ quorum: 0 }), null, NOW)).toThrow(ValidationError);
    expect(() =>
      buildApprovalRequest(
        ask({ approvers: ['a@studio.test', 'data.scientist@studio.test'], quorum: 1 }),
        null,
        NOW,
      ),
    ).not.toThrow();
  });

  it('keeps the serving snapshot it was given', () => {
    const serving = {
      version: '1.1.0',
      metrics: { auc: 0.8 },
      promotedAt: '2030-01-01T00:00:00Z',
      promotedBy: 'x@studio.test',
    };
    expect(buildApprovalRequest(ask(), serving, NOW).serving).toEqual(serving);
  });
});

describe('reminderDue', () => {
  const expiry = Date.parse(request().expiresAt);
  const at = (ms: number) => new Date(ms);
  const window = 6 * 3600 * 1000;

  it('is due inside the window before expiry, and not before it or after expiry', () => {
    expect(reminderDue(request(), at(expiry - window - 1))).toBe(false);
    expect(reminderDue(request(), at(expiry - window))).toBe(true);
    expect(reminderDue(request(), at(expiry - 1))).toBe(true);
    expect(reminderDue(request(), at(expiry))).toBe(false);
  });

  it('is not due once sent, when reminders are off, or for a completed request', () => {
    const inWindow = at(expiry - 60_000);
    expect(reminderDue(request({ remindedAt: NOW.toISOString() }), inWindow)).toBe(false);
    expect(reminderDue(request({ reminderSecondsBeforeExpiry: 0 }), inWindow)).toBe(false);
    expect(reminderDue(request({ status: 'approved' }), inWindow)).toBe(false);
  });
});

describe('approvalEmail', () => {
  it('addresses one approver, carries their link, and says opening it decides nothing', () => {
    const link = 'https://api.example.test/approvals/apr-x?t=0.abc.def';
    const m = approvalEmail(request(), 'a@studio.test', link);
    expect(m.to).toEqual(['a@studio.test']);
    expect(m.subject).toBe('Approval needed: churn 1.2.0 → production');
    expect(m.text).toContain(link);
    expect(m.text).toContain('opening the page decides nothing');
    expect(m.text).toContain('2 of 3 approvals are needed');
    expect(m.html).toContain(`href="${link}"`);
    const reminder = approvalEmail(request(), 'a@studio.test', link, 'reminder');
    expect(reminder.subject).toMatch(/^Reminder: /);
  });
});
