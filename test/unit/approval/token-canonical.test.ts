import { describe, expect, it } from 'vitest';
import {
  formToken,
  signLink,
  verifyFormToken,
  verifyLink,
} from '../../../lambdas/domain/approval/signing.js';

const key = Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef');
const approvers = Array.from({ length: 12 }, (_, i) => `approver-${i}@studio.test`);
const requestId = 'apr-Zx3_kq9P0aLmN2bVc8Rt';
const now = 1_900_000_000;
const expiresAt = now + 72 * 3600;

const sign = (index: number) =>
  signLink(key, { requestId, approver: approvers[index] ?? '', expiresAt }, index);

/**
 * A token has one spelling, the one signLink writes. Other spellings of the same claims — a
 * zero-padded approver position or expiry — carry a valid mac (the mac covers the values, not
 * their text) and were accepted, so one link had many valid forms.
 */
describe('approval link tokens are accepted only in canonical form', () => {
  it('the canonical token verifies (positions 0, 1 and 11)', () => {
    for (const i of [0, 1, 11]) expect(verifyLink(key, requestId, approvers, sign(i), now).ok).toBe(true);
  });

  /** `[position, expiry, mac]` of the canonical token for approver `i`. */
  const parts = (i: number) => sign(i).split('.') as [string, string, string];

  it.each([
    ['position 0 written 00', () => `00.${parts(0)[1]}.${parts(0)[2]}`],
    ['position 1 written 01', () => `01.${parts(1)[1]}.${parts(1)[2]}`],
    ['position 1 written 001', () => `001.${parts(1)[1]}.${parts(1)[2]}`],
    ['position 11 written 011', () => `011.${parts(11)[1]}.${parts(11)[2]}`],
    ['an expiry with a leading zero', () => `0.0${parts(0)[1]}.${parts(0)[2]}`],
    ['an expiry zero-padded to 12 digits', () => `0.${parts(0)[1].padStart(12, '0')}.${parts(0)[2]}`],
    ['both padded', () => `00.0${parts(0)[1]}.${parts(0)[2]}`],
  ])('%s is malformed, although it names the signed claims', (_what, variant) => {
    expect(verifyLink(key, requestId, approvers, variant(), now)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('the form anti-forgery value is accepted only in canonical form', () => {
  it('a zero-padded issue time is malformed', () => {
    const value = formToken(key, requestId, 'a@studio.test', now);
    expect(verifyFormToken(key, requestId, 'a@studio.test', value, now)).toEqual({ ok: true });
    for (const padded of [`0${value}`, `00${value}`]) {
      expect(verifyFormToken(key, requestId, 'a@studio.test', padded, now)).toEqual({
        ok: false,
        reason: 'malformed',
      });
    }
  });
});
