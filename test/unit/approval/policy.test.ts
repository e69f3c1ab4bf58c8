import { describe, expect, it } from 'vitest';
import {
  alreadyDecided,
  checkDecisionContent,
  checkMayDecide,
  decisionOf,
  isExpired,
  MAX_COMMENT_LENGTH,
  outcomeNote,
  tally,
} from '../../../lambdas/domain/approval/policy.js';
import {
  ApprovalExpired,
  ConflictError,
  ForbiddenError,
  ValidationError,
} from '../../../lambdas/domain/errors.js';
import { decision, NOW, request } from './fixtures.js';

const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

describe('checkMayDecide', () => {
  it('lets a listed approver decide a pending, unexpired request, whatever the address case', () => {
    expect(() => checkMayDecide(request(), 'a@studio.test', NOW)).not.toThrow();
    expect(() => checkMayDecide(request(), '  C@STUDIO.test', NOW)).not.toThrow();
  });

  it('refuses a non-approver with 403, naming the approvers', () => {
    const err = catchErr(() => checkMayDecide(request(), 'mallory@studio.test', NOW));
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err).toMatchObject({ name: 'ForbiddenError', status: 403 });
    expect(err.message).toContain('a@studio.test, b@studio.test, c@studio.test');
  });

  it('refuses the requestor even when listed as an approver (no self-approval)', () => {
    const r = request({}, { approvers: ['a@studio.test', 'b@studio.test', 'data.scientist@studio.test'] });
    expect(r.approvers).toContain('data.scientist@studio.test');
    const err = catchErr(() => checkMayDecide(r, 'DATA.SCIENTIST@studio.test', NOW));
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err.message).toMatch(/asked for this promotion/);
  });

  it('refuses after expiry with 410, by the clock or by the stored status', () => {
    const expiry = 72 * 3600;
    expect(() => checkMayDecide(request(), 'a@studio.test', later(expiry - 1))).not.toThrow();
    const byClock = catchErr(() => checkMayDecide(request(), 'a@studio.test', later(expiry)));
    expect(byClock).toBeInstanceOf(ApprovalExpired);
    expect(byClock).toMatchObject({ name: 'ApprovalExpired', status: 410 });
    const byStatus = catchErr(() => checkMayDecide(request({ status: 'expired' }), 'a@studio.test', NOW));
    expect(byStatus).toBeInstanceOf(ApprovalExpired);
    expect(isExpired(request({ status: 'expired' }), NOW)).toBe(true);
    expect(isExpired(request(), NOW)).toBe(false);
  });

  it('refuses a completed request with 409 that says how it ended', () => {
    const done = request({ status: 'approved', outcomeNote: 'approved by a@studio.test, b@studio.test' });
    const err = catchErr(() => checkMayDecide(done, 'c@studio.test', NOW));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ status: 409 });
    expect(err.message).toContain('already approved (approved by a@studio.test, b@studio.test)');
  });
});

describe('decisions', () => {
  it('finds an approver’s earlier decision whatever the case, and calls a second one a conflict', () => {
    const earlier = decision('a@studio.test', 'approve', 'ok');
    expect(decisionOf([earlier], ' A@Studio.Test')).toBe(earlier);
    expect(decisionOf([earlier], 'b@studio.test')).toBeUndefined();
    const err = alreadyDecided(earlier);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toContain('already decided (approve)');
    expect(err.details).toEqual({ decision: earlier });
  });

  it('a rejection needs a comment; an approval does not; comments have a cap', () => {
    expect(() => checkDecisionContent('approve', '')).not.toThrow();
    expect(() => checkDecisionContent('reject', 'AUC regressed on new players')).not.toThrow();
    for (const blank of ['', '   \n ']) {
      const err = catchErr(() => checkDecisionContent('reject', blank));
      expect(err).toBeInstanceOf(ValidationError);
      expect(err).toMatchObject({ status: 400 });
    }
    expect(() => checkDecisionContent('approve', 'x'.repeat(MAX_COMMENT_LENGTH))).not.toThrow();
    expect(() => checkDecisionContent('approve', 'x'.repeat(MAX_COMMENT_LENGTH + 1))).toThrow(
      ValidationError,
    );
  });
});

describe('tally', () => {
  const r = request(); // 2 of 3
  it('waits below quorum', () => {
    expect(tally(r, [])).toEqual({ outcome: 'waiting', approvals: 0, needed: 2 });
    expect(tally(r, [decision('a@studio.test', 'approve')])).toEqual({
      outcome: 'waiting',
      approvals: 1,
      needed: 2,
    });
  });

  it('approves at quorum, listing who approved', () => {
    const a = decision('a@studio.test', 'approve', 'fine');
    const b = decision('b@studio.test', 'approve', 'gates pass');
    const t = tally(r, [a, b]);
    expect(t).toEqual({ outcome: 'approved', approvedBy: [a, b], approvals: 2, needed: 2 });
    if (t.outcome !== 'approved') throw new Error('expected approved');
    expect(outcomeNote(t)).toBe('approved by a@studio.test, b@studio.test');
  });

  it('one rejection vetoes, even after quorum approvals', () => {
    const a = decision('a@studio.test', 'approve');
    const b = decision('b@studio.test', 'approve');
    const c = decision('c@studio.test', 'reject', 'recall dropped for whales');
    const t = tally(r, [a, b, c]);
    expect(t).toMatchObject({ outcome: 'rejected', by: c, approvals: 2, needed: 2 });
    if (t.outcome !== 'rejected') throw new Error('expected rejected');
    expect(outcomeNote(t)).toBe('rejected by c@studio.test: recall dropped for whales');
    expect(tally(r, [c]).outcome).toBe('rejected');
  });

  it('a quorum of 1 approves on the first approval', () => {
    const one = request({ quorum: 1 });
    expect(tally(one, [decision('b@studio.test', 'approve')]).outcome).toBe('approved');
  });
});

function catchErr(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}
