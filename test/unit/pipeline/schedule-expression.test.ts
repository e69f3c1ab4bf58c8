import { describe, expect, it } from 'vitest';
import { nextFireTime } from '../../../lambdas/domain/pipeline/schedule-expression.js';

describe('nextFireTime (EventBridge expressions on the local scheduler)', () => {
  const from = new Date('2026-11-22T10:00:00Z'); // a Sunday

  it('fires a weekly cron on the next Monday 03:00 UTC', () => {
    expect(nextFireTime('cron(0 3 ? * MON *)', from).toISOString()).toBe('2026-11-23T03:00:00.000Z');
  });

  it("maps EventBridge's numeric day-of-week (1 = Sunday) onto classic cron", () => {
    // 2 = Monday in EventBridge
    expect(nextFireTime('cron(30 6 ? * 2 *)', from).toISOString()).toBe('2026-11-23T06:30:00.000Z');
  });

  it('handles rate expressions', () => {
    expect(nextFireTime('rate(1 day)', from).toISOString()).toBe('2026-11-23T10:00:00.000Z');
    expect(nextFireTime('rate(15 minutes)', from).toISOString()).toBe('2026-11-22T10:15:00.000Z');
  });

  it('names the bad expression', () => {
    expect(() => nextFireTime('cron(0 3 * *)', from)).toThrow(/cron\(0 3 \* \*\)/);
    expect(() => nextFireTime('every monday', from)).toThrow(/every monday/);
  });
});
