import { describe, expect, it } from 'vitest';
import { approvalLink, MAX_LINK_LENGTH } from '../../../lambdas/domain/approval/request.js';
import {
  FORM_TTL_SECONDS,
  formToken,
  signLink,
  verifyFormToken,
  verifyLink,
} from '../../../lambdas/domain/approval/signing.js';

const key = Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef');
const otherKey = Buffer.from('fedcba9876543210fedcba9876543210fedcba9876543210');
const approvers = ['a@studio.test', 'b@studio.test', 'c@studio.test'] as const;
const requestId = 'apr-Zx3_kq9P0aLmN2bVc8Rt';
const now = 1_900_000_000;
const expiresAt = now + 72 * 3600;

const sign = (index: number, exp = expiresAt, id = requestId) =>
  signLink(key, { requestId: id, approver: approvers[index] ?? '', expiresAt: exp }, index);

/** Replaces one character of `part` (0 index, 1 expiry, 2 mac) with a different valid one. */
function tamper(token: string, part: number, at = 0): string {
  const parts = token.split('.');
  const p = parts[part] ?? '';
  const c = p[at] ?? '';
  const swap =
    part === 2 ? (c === 'A' ? 'B' : 'A') : part === 1 ? (c === '1' ? '2' : '1') : c === '1' ? '2' : '1';
  parts[part] = p.slice(0, at) + swap + p.slice(at + 1);
  return parts.join('.');
}

describe('approval link tokens', () => {
  it('verify for the approver, request and expiry they were signed for', () => {
    for (const [i, approver] of approvers.entries()) {
      const check = verifyLink(key, requestId, approvers, sign(i), now);
      expect(check).toEqual({ ok: true, claims: { requestId, approver, expiresAt } });
    }
  });

  it('have the shape <approverIndex>.<expiry base36>.<mac> and carry no address', () => {
    const token = sign(1);
    expect(token).toMatch(/^1\.[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    expect(token.split('.')[1]).toBe(expiresAt.toString(36));
    expect(token).not.toContain('studio');
  });

  it('a changed approver index is a bad signature (the link cannot be re-pointed at a colleague)', () => {
    const token = sign(0);
    const moved = `1${token.slice(1)}`;
    expect(verifyLink(key, requestId, approvers, moved, now)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('a changed expiry is a bad signature (a link cannot be extended)', () => {
    const token = sign(0);
    const later = token.replace(`.${expiresAt.toString(36)}.`, `.${(expiresAt + 86_400).toString(36)}.`);
    expect(later).not.toBe(token);
    expect(verifyLink(key, requestId, approvers, later, now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyLink(key, requestId, approvers, tamper(token, 1, 2), now)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('a changed mac, at any position and to any character, is a bad signature', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const i of [0, 1, 2]) {
      const token = sign(i);
      const [index, expiry, mac = ''] = token.split('.');
      for (let at = 0; at < mac.length; at++) {
        for (const c of alphabet) {
          if (c === mac[at]) continue;
          const altered = `${index}.${expiry}.${mac.slice(0, at)}${c}${mac.slice(at + 1)}`;
          expect(verifyLink(key, requestId, approvers, altered, now)).toEqual({
            ok: false,
            reason: 'bad-signature',
          });
        }
      }
    }
  });

  it('a token for another request, or signed with another key, is a bad signature', () => {
    expect(verifyLink(key, 'apr-someOtherRequest00', approvers, sign(0), now)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    const foreign = signLink(otherKey, { requestId, approver: 'a@studio.test', expiresAt }, 0);
    expect(verifyLink(key, requestId, approvers, foreign, now)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('checks the signature against the stored approver list (a reordered list breaks old links)', () => {
    const reordered = ['b@studio.test', 'a@studio.test', 'c@studio.test'];
    expect(verifyLink(key, requestId, reordered, sign(0), now)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('says missing for no token and malformed for junk or an index past the list', () => {
    expect(verifyLink(key, requestId, approvers, undefined, now)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyLink(key, requestId, approvers, '', now)).toEqual({ ok: false, reason: 'missing' });
    for (const junk of [
      'abc',
      '0.abc',
      `${sign(0)}.x`,
      `7${sign(0).slice(1)}`,
      sign(0).slice(0, -1),
      `${sign(0)}A`,
    ]) {
      expect(verifyLink(key, requestId, approvers, junk, now)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('expires at the signed expiry, and says expired only for a genuine link', () => {
    const token = sign(0);
    expect(verifyLink(key, requestId, approvers, token, expiresAt - 1).ok).toBe(true);
    expect(verifyLink(key, requestId, approvers, token, expiresAt)).toEqual({
      ok: false,
      reason: 'expired',
      claims: { requestId, approver: 'a@studio.test', expiresAt },
    });
    const past = signLink(key, { requestId, approver: 'a@studio.test', expiresAt: now - 10 }, 0);
    expect(verifyLink(key, requestId, approvers, past, now).ok).toBe(false);
    expect(verifyLink(key, requestId, approvers, tamper(past, 2), now)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('full links stay under 300 characters for a realistic API Gateway base URL', () => {
    const base = 'https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com/';
    const link = approvalLink(base, requestId, sign(2, 4_102_444_800));
    expect(link.length).toBeLessThan(MAX_LINK_LENGTH);
    expect(MAX_LINK_LENGTH).toBe(300);
    expect(link).toBe(`${base}approvals/${requestId}?t=${sign(2, 4_102_444_800)}`);
    expect(approvalLink(base.slice(0, -1), requestId, 'x')).toBe(`${base}approvals/${requestId}?t=x`);
  });

  it('refuses to build a link of 300 characters or more', () => {
    const base = `https://example.test/${'p'.repeat(250)}/`;
    expect(() => approvalLink(base, requestId, sign(0))).toThrow(/must stay under 300/);
  });
});

describe('the form anti-forgery value', () => {
  const issued = now;
  it('verifies for the request and approver it was rendered for, within its lifetime', () => {
    const value = formToken(key, requestId, 'a@studio.test', issued);
    expect(verifyFormToken(key, requestId, 'a@studio.test', value, issued)).toEqual({ ok: true });
    expect(verifyFormToken(key, requestId, 'A@Studio.test', value, issued + FORM_TTL_SECONDS)).toEqual({
      ok: true,
    });
  });

  it('is refused for another approver, another request, another key, or altered', () => {
    const value = formToken(key, requestId, 'a@studio.test', issued);
    expect(verifyFormToken(key, requestId, 'b@studio.test', value, issued)).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(verifyFormToken(key, 'apr-other000000', 'a@studio.test', value, issued)).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(verifyFormToken(otherKey, requestId, 'a@studio.test', value, issued)).toEqual({
      ok: false,
      reason: 'forged',
    });
    const [t, nonce, mac] = value.split('.');
    const laterIssue = `${(issued + 60).toString(36)}.${nonce}.${mac}`;
    expect(verifyFormToken(key, requestId, 'a@studio.test', laterIssue, issued + 60)).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(verifyFormToken(key, requestId, 'a@studio.test', `${t}.${nonce}x.${mac}`, issued)).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it('is missing, malformed or stale as such', () => {
    const value = formToken(key, requestId, 'a@studio.test', issued);
    expect(verifyFormToken(key, requestId, 'a@studio.test', undefined, issued)).toEqual({
      ok: false,
      reason: 'missing',
    });
    expect(verifyFormToken(key, requestId, 'a@studio.test', 'nonsense', issued)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(verifyFormToken(key, requestId, 'a@studio.test', value, issued + FORM_TTL_SECONDS + 1)).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect(verifyFormToken(key, requestId, 'a@studio.test', value, issued - 120)).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  it('differs on every render (a random nonce), so values are not predictable', () => {
    const a = formToken(key, requestId, 'a@studio.test', issued);
    const b = formToken(key, requestId, 'a@studio.test', issued);
    expect(a).not.toBe(b);
  });
});
