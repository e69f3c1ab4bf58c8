import { describe, expect, it } from 'vitest';
import { checkLinkAccess } from '../../../lambdas/domain/approval/access.js';
import { checkMayDecide, tally } from '../../../lambdas/domain/approval/policy.js';
import { closingNote, describeWaitEnd, taskSignalFor } from '../../../lambdas/domain/approval/signal.js';
import { ApprovalExpired } from '../../../lambdas/domain/errors.js';
import { decision, NOW, request } from './fixtures.js';

describe('the callback a decided request owes its execution', () => {
  it('at quorum: SendTaskSuccess output naming who approved, when and why', () => {
    const r = request();
    const result = tally(r, [
      decision('a@studio.test', 'approve', 'gates pass'),
      decision('b@studio.test', 'approve'),
    ]);
    if (result.outcome !== 'approved') throw new Error('expected approved');
    const signal = taskSignalFor(r, result, NOW);
    expect(signal.kind).toBe('success');
    expect(signal.kind === 'success' && JSON.parse(signal.output)).toEqual({
      requestId: r.requestId,
      approvedBy: [
        { approver: 'a@studio.test', comment: 'gates pass', decidedAt: NOW.toISOString() },
        { approver: 'b@studio.test', comment: '', decidedAt: NOW.toISOString() },
      ],
      completedAt: NOW.toISOString(),
    });
  });

  it('on a rejection: SendTaskFailure with the error name the ASL catches and the approver’s reason', () => {
    const r = request();
    const result = tally(r, [decision('c@studio.test', 'reject', 'recall dropped')]);
    if (result.outcome !== 'rejected') throw new Error('expected rejected');
    expect(taskSignalFor(r, result, NOW)).toEqual({
      kind: 'failure',
      error: 'ApprovalRejected',
      cause: 'rejected by c@studio.test: recall dropped',
    });
  });
});

describe('closing a request whose execution stopped waiting', () => {
  it('says how the execution ended', () => {
    expect(describeWaitEnd({ kind: 'ended', status: 'ABORTED' })).toBe('was stopped');
    expect(describeWaitEnd({ kind: 'ended', status: 'TIMED_OUT' })).toBe('timed out');
    expect(describeWaitEnd({ kind: 'ended', status: 'FAILED', error: 'mlcycle.LocalRuntimeStopped' })).toBe(
      'failed (mlcycle.LocalRuntimeStopped)',
    );
    expect(describeWaitEnd({ kind: 'missing' })).toBe('no longer exists');
    expect(describeWaitEnd({ kind: 'refused', error: 'TaskTimedOut' })).toBe(
      'no longer waits for this approval (TaskTimedOut)',
    );
  });

  it('an undecided request: nothing will deploy; an approved one keeps who approved and says it took no effect', () => {
    expect(closingNote(request(), { kind: 'ended', status: 'ABORTED' })).toBe(
      'the pipeline execution was stopped before a decision was reached: nothing will deploy',
    );
    const approved = request({ status: 'approved', outcomeNote: 'approved by a@studio.test, b@studio.test' });
    expect(closingNote(approved, { kind: 'refused', error: 'TaskDoesNotExist' })).toBe(
      'approved by a@studio.test, b@studio.test, but the pipeline execution no longer waits for this approval (TaskDoesNotExist) before it could deploy: nothing will deploy',
    );
  });

  it('a closed request refuses decisions with 410 and its links show the closed page, not the decision form', () => {
    const closed = request({ status: 'closed', outcomeNote: 'the pipeline execution was stopped' });
    expect(() => checkMayDecide(closed, 'a@studio.test', NOW)).toThrow(ApprovalExpired);
    const access = checkLinkAccess(
      closed,
      closed.requestId,
      { ok: true, claims: { requestId: closed.requestId, approver: 'a@studio.test', expiresAt: 0 } },
      [],
      NOW,
    );
    expect(access.ok).toBe(false);
    if (access.ok) return;
    expect(access.refusal.status).toBe(410);
    expect(access.refusal.page).toContain('This request is closed');
    expect(access.refusal.page).toContain('nothing will deploy');
    expect(access.refusal.page).toContain('the pipeline execution was stopped');
  });
});
