import { describe, expect, it } from 'vitest';
import { renderDecisionPage } from '../../../lambdas/domain/approval/decision-page.js';
import { approvalEmail } from '../../../lambdas/domain/approval/email.js';
import { askedChange } from '../../../lambdas/domain/approval/types.js';
import { recentDrift } from '../../../lambdas/domain/drift/recent.js';
import { NOW, request } from './fixtures.js';

const link = 'https://api.example.test/approvals/apr-x?t=0.abc.def';

describe('an approval request for a rollout start says so', () => {
  it('the request keeps the share; the email subject, text and html name a canary rollout at it', () => {
    const r = request({}, { rollout: { percent: 5 } });
    expect(r.rollout).toEqual({ percent: 5 });
    const mail = approvalEmail(r, 'a@studio.test', link);
    expect(mail.subject).toMatch(
      new RegExp(
        `Approval needed: canary rollout of ${r.model} ${r.version.replace(/\./g, '\\.')} at 5 % on ${r.stage}`,
      ),
    );
    expect(mail.text).toContain(
      `Your approval is asked to start a canary rollout of ${r.model} ${r.version} on ${r.stage} at 5 %.`,
    );
    expect(mail.html).toContain('canary rollout');
  });

  it('a plain promotion is still a promotion, and carries no rollout', () => {
    const r = request();
    expect(r.rollout).toBeUndefined();
    expect(askedChange(r)).toBe(`promote ${r.model} ${r.version} to ${r.stage}`);
    expect(approvalEmail(r, 'a@studio.test', link).text).not.toContain('rollout');
  });

  it('the decision page tells the approver it is a canary and who keeps the serving version', () => {
    const html = renderDecisionPage({
      request: request({}, { rollout: { percent: 12.5 } }),
      decisions: [],
      approver: 'a@studio.test',
      linkToken: 't',
      formToken: 'f',
      modelCard: null,
      drift: {
        recent: recentDrift([], NOW, { days: 7, batches: 50 }),
        summary: null,
        reportHref: (id) => `report/${id}`,
      },
    });
    expect(html).toMatch(
      /start a canary rollout of .* at 12\.5 %<\/b>: the rest of the players keep the version serving/,
    );
  });
});
