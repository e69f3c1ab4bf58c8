import { EXECUTION_TIMEOUT_SECONDS, LAMBDA_STEPS_ALLOWANCE_SECONDS } from '../lambdas/contracts/pipeline.js';

/**
 * The ASL's side of the time budgets (lambdas/contracts/budgets.ts). The config schema
 * checks that the Train budget and the approval wait fit in the execution timeout next to an
 * allowance for the Lambda steps; this proves the definition keeps its part of that deal:
 * - the execution timeout is the one the config was checked against;
 * - a Task timed by a path reads one of the budgeted fields the pipeline input carries;
 * - the Tasks with a fixed timeout, with every retry and backoff, fit in the allowance.
 */

/** Fields of the pipeline input that carry a budgeted timeout, and what each budgets. */
export const BUDGETED_TIMEOUT_PATHS: Readonly<Record<string, string>> = {
  '$.training.taskTimeoutSeconds': 'the whole Train task (every Batch attempt and its wait)',
  '$.training.predictTaskTimeoutSeconds':
    'a whole Predict or SmokePredict task (every Batch attempt and its wait)',
  '$.approvalWait.timeoutSeconds': 'the approval wait (Admit sets it from the stage policy)',
};

interface Retrier {
  readonly MaxAttempts?: number;
  readonly IntervalSeconds?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
}

interface BudgetedState {
  readonly Type: string;
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly Retry?: readonly Retrier[];
}

export interface BudgetedDefinition {
  readonly TimeoutSeconds?: number;
  readonly States: Readonly<Record<string, BudgetedState>>;
}

/** Seconds spent waiting between the retries of one state, at most (Step Functions' defaults). */
function backoffSeconds(retry: readonly Retrier[] = []): number {
  let total = 0;
  for (const r of retry) {
    let interval = r.IntervalSeconds ?? 1;
    for (let i = 0; i < (r.MaxAttempts ?? 3); i++) {
      total += Math.min(interval, r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY);
      interval *= r.BackoffRate ?? 2;
    }
  }
  return total;
}

const attempts = (retry: readonly Retrier[] = []) => 1 + retry.reduce((n, r) => n + (r.MaxAttempts ?? 3), 0);

/**
 * The longest all fixed-timeout Tasks can take together: every one of them on the same path
 * (an over-estimate), each attempt to its timeout. A path-timed Task's retries are counted for
 * their backoff only: they retry service errors of the call that starts it, which fail at once.
 */
export function fixedTaskSeconds(definition: BudgetedDefinition): number {
  let total = 0;
  for (const state of Object.values(definition.States)) {
    if (state.Type !== 'Task') continue;
    if (state.TimeoutSecondsPath === undefined) total += (state.TimeoutSeconds ?? 60) * attempts(state.Retry);
    total += backoffSeconds(state.Retry);
  }
  return total;
}

/** What is wrong with the definition's timeouts, one sentence each (empty when they add up). */
export function aslBudgetProblems(definition: BudgetedDefinition): string[] {
  const problems: string[] = [];
  if (definition.TimeoutSeconds !== EXECUTION_TIMEOUT_SECONDS) {
    problems.push(
      `the execution TimeoutSeconds is ${definition.TimeoutSeconds ?? 'unset'}, but the config's budgets are checked ` +
        `against ${EXECUTION_TIMEOUT_SECONDS} (Step Functions' limit of one year): set it to ${EXECUTION_TIMEOUT_SECONDS}`,
    );
  }
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const path = state.TimeoutSecondsPath;
    if (path !== undefined && !(path in BUDGETED_TIMEOUT_PATHS)) {
      problems.push(
        `state ${name}: TimeoutSecondsPath ${path} is not a budgeted timeout; use one of ` +
          Object.entries(BUDGETED_TIMEOUT_PATHS)
            .map(([p, what]) => `${p} (${what})`)
            .join(', '),
      );
    }
    if (path === undefined && state.TimeoutSeconds === undefined) {
      problems.push(`state ${name}: a Task needs TimeoutSeconds or a budgeted TimeoutSecondsPath`);
    }
  }
  const fixed = fixedTaskSeconds(definition);
  if (fixed > LAMBDA_STEPS_ALLOWANCE_SECONDS) {
    problems.push(
      `the Tasks with a fixed timeout can take ${fixed} s with their retries, over the ${LAMBDA_STEPS_ALLOWANCE_SECONDS} s ` +
        'the config budgets allow them (LAMBDA_STEPS_ALLOWANCE_SECONDS): shorten their timeouts or retries, or raise the allowance',
    );
  }
  return problems;
}
