import { describe, expect, it } from 'vitest';
import {
  EXECUTION_TIMEOUT_SECONDS,
  executionBudget,
  LAMBDA_STEPS_ALLOWANCE_SECONDS,
  SUBMIT_MARGIN_SECONDS,
  trainTaskTimeoutSeconds,
} from '../../../lambdas/contracts/budgets.js';

const HOUR = 3600;

describe('Train task budget', () => {
  it('gives every attempt its capacity wait, start-up and run time, plus a margin for submission', () => {
    // 3 attempts × (1 h RUNNABLE + 15 min boot and pull + 2 h run) + margin.
    expect(
      trainTaskTimeoutSeconds({
        attemptSeconds: 2 * HOUR,
        attempts: 3,
        capacityWaitSeconds: HOUR,
        startupSeconds: 900,
      }),
    ).toBe(3 * (HOUR + 900 + 2 * HOUR) + SUBMIT_MARGIN_SECONDS);
  });

  it('is longer than the per-attempt timeout, so a Spot reclaim retry is not cut by States.Timeout', () => {
    const attemptSeconds = 2 * HOUR;
    const task = trainTaskTimeoutSeconds({
      attemptSeconds,
      attempts: 2,
      capacityWaitSeconds: 600,
      startupSeconds: 60,
    });
    // A first attempt reclaimed just before its end, then a full second attempt, both after a wait.
    expect(task).toBeGreaterThan(2 * (600 + 60 + attemptSeconds));
  });

  it('refuses inputs that are not a budget (no attempt, negative waits)', () => {
    const ok = { attemptSeconds: 60, attempts: 1, capacityWaitSeconds: 0, startupSeconds: 0 };
    expect(() => trainTaskTimeoutSeconds({ ...ok, attempts: 0 })).toThrow(/attempts/);
    expect(() => trainTaskTimeoutSeconds({ ...ok, attemptSeconds: 0 })).toThrow(/attemptSeconds/);
    expect(() => trainTaskTimeoutSeconds({ ...ok, capacityWaitSeconds: -1 })).toThrow(/capacityWaitSeconds/);
    expect(() => trainTaskTimeoutSeconds({ ...ok, attempts: 1.5 })).toThrow(/attempts/);
  });
});

describe('execution budget', () => {
  it('adds the Lambda steps, the Train task and the approval wait', () => {
    const b = executionBudget({ trainTaskSeconds: 10 * HOUR, approvalWaitSeconds: 72 * HOUR });
    expect(b.totalSeconds).toBe(LAMBDA_STEPS_ALLOWANCE_SECONDS + 10 * HOUR + 72 * HOUR);
    expect(b.fits).toBe(true);
    expect(b.maxApprovalWaitSeconds).toBe(
      EXECUTION_TIMEOUT_SECONDS - LAMBDA_STEPS_ALLOWANCE_SECONDS - 10 * HOUR,
    );
  });

  it('does not fit when the approval wait and training together outlast the execution timeout', () => {
    const b = executionBudget({ trainTaskSeconds: 10 * HOUR, approvalWaitSeconds: 8760 * HOUR });
    expect(b.fits).toBe(false);
    expect(b.totalSeconds).toBeGreaterThan(EXECUTION_TIMEOUT_SECONDS);
    expect(b.maxApprovalWaitSeconds).toBeLessThan(8760 * HOUR);
  });

  it('fits exactly at the limit, and not one second over it', () => {
    const train = 5 * HOUR;
    const max = EXECUTION_TIMEOUT_SECONDS - LAMBDA_STEPS_ALLOWANCE_SECONDS - train;
    expect(executionBudget({ trainTaskSeconds: train, approvalWaitSeconds: max }).fits).toBe(true);
    expect(executionBudget({ trainTaskSeconds: train, approvalWaitSeconds: max + 1 }).fits).toBe(false);
  });

  it('a promotion (no training) has only the approval wait and the Lambda steps', () => {
    const b = executionBudget({ trainTaskSeconds: 0, approvalWaitSeconds: HOUR });
    expect(b.totalSeconds).toBe(LAMBDA_STEPS_ALLOWANCE_SECONDS + HOUR);
  });

  it('is Step Functions’ own ceiling for Standard workflows (one year)', () => {
    expect(EXECUTION_TIMEOUT_SECONDS).toBe(365 * 24 * HOUR);
  });
});
