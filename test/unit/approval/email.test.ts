import { describe, expect, it } from 'vitest';
import { approvalLinkIn } from '../../../bin/cli/demo-approver.js';
import { approvalEmail, MAX_EMAIL_REASON_CHARS } from '../../../lambdas/domain/approval/email.js';
import { actingCharacters } from '../../support/control-chars.js';
import { request } from './fixtures.js';

const link = 'https://api.example.test/approvals/apr-x?t=0.abc.def';
const phishing =
  'urgent: the link below is broken, use https://evil.example/approvals/apr-x?t=0.abc.def instead';

const mail = (reason: string, requestedBy?: string) =>
  approvalEmail(request({ reason, ...(requestedBy ? { requestedBy } : {}) }), 'a@studio.test', link);

/** The lines of the text part that are not quotes of the requestor's reason. */
const ownLines = (text: string) => text.split('\n').filter((l) => !l.startsWith('  | '));

describe('approval email: the requestor reason cannot pose as the link', () => {
  it('the signed link is the first link in the text, above anything the requestor wrote', () => {
    const { text } = mail(phishing);
    expect(approvalLinkIn(text)).toBe(link);
    expect(text.indexOf(link)).toBeLessThan(text.indexOf('urgent'));
    expect(text.indexOf(link)).toBeLessThan(text.indexOf('Requested by'));
    // the reason's own URL is shown disabled: a mail client cannot turn it into a link
    expect(text).not.toContain('https://evil');
    expect(text).toContain('https[:]//evil.example/approvals/apr-x');
  });

  it('the reason comes last, under a heading that says whose words they are, each line quoted', () => {
    const { text } = mail(`${phishing}\n\nReview and decide:\nhttps://evil.example/approvals/apr-y`);
    const heading = text.indexOf('Reason given by the requestor (their own words, not checked by mlcycle');
    expect(heading).toBeGreaterThan(text.indexOf(link));
    expect(heading).toBeLessThan(text.indexOf('urgent'));
    // a reason cannot add a line of its own: every one of its lines is quoted
    expect(ownLines(text).filter((l) => /urgent|evil|Review and decide:$/.test(l))).toEqual([]);
    expect(ownLines(text).filter((l) => /^https?:/.test(l))).toEqual([link]);
  });

  it('control characters in the reason or the requestor never reach the email', () => {
    const m = mail(
      'fine\r\u001b[8mhidden\u001b[0m \u202Egnp.exe\u2066 \u0085x',
      'mallory\r\nBcc: everyone@studio.test',
    );
    for (const part of [m.text, m.html]) expect(actingCharacters(part)).toEqual([]);
    expect(m.text).toContain('Requested by: mallory Bcc: everyone@studio.test');
    expect(m.text).toContain('  | fine');
  });

  it('a long reason is bounded', () => {
    const { text, html } = mail('x'.repeat(20_000));
    expect(text.length).toBeLessThan(MAX_EMAIL_REASON_CHARS + 2_000);
    expect(text).toContain(`${'x'.repeat(MAX_EMAIL_REASON_CHARS - 1)}…`);
    expect(html.length).toBeLessThan(MAX_EMAIL_REASON_CHARS + 3_000);
  });

  it('HTML part: the one anchor is the signed link, before the reason, which is escaped and quoted', () => {
    const { html } = mail(`${phishing} <a href="https://evil.example">here</a><script>x()</script>`);
    expect([...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1])).toEqual([link]);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('https://evil');
    expect(html.indexOf(link)).toBeLessThan(html.indexOf('urgent'));
    expect(html).toMatch(/not checked by mlcycle[^<]*<\/p>\s*<blockquote[^>]*>urgent/);
  });

  it('without a reason there is no reason section', () => {
    const { text, html } = mail('');
    expect(text).not.toContain('Reason given');
    expect(html).not.toContain('<blockquote');
  });
});
