import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EXECUTION_TIMEOUT_SECONDS,
  LAMBDA_STEPS_ALLOWANCE_SECONDS,
} from '../../lambdas/contracts/pipeline.js';
import { aslFunctions } from '../../lambdas/contracts/state-machine.js';
import { aslBudgetProblems, type BudgetedDefinition, fixedTaskSeconds } from '../../lib/asl-budget.js';
import { LifecycleStateMachine } from '../../lib/lifecycle-state-machine.js';
import { ASL_FILE } from '../../lib/paths.js';

/** Issue 15, point 4: the ASL's timeouts keep the deal the config's budgets are checked against. */

const asl = JSON.parse(readFileSync(ASL_FILE, 'utf8')) as BudgetedDefinition & {
  States: Record<string, Record<string, unknown>>;
};
const tmp = mkdtempSync(join(tmpdir(), 'mlcycle-asl-budget-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const lambdaTask = (timeout: number, retries = 0) => ({
  Type: 'Task',
  TimeoutSeconds: timeout,
  ...(retries
    ? { Retry: [{ ErrorEquals: ['X'], MaxAttempts: retries, IntervalSeconds: 2, BackoffRate: 2 }] }
    : {}),
});

describe('the lifecycle ASL', () => {
  it('keeps its timeouts within the budgets', () => {
    expect(aslBudgetProblems(asl)).toEqual([]);
    expect(fixedTaskSeconds(asl)).toBeLessThanOrEqual(LAMBDA_STEPS_ALLOWANCE_SECONDS);
  });
});

describe('aslBudgetProblems', () => {
  const base = { TimeoutSeconds: EXECUTION_TIMEOUT_SECONDS, States: { A: lambdaTask(60) } };

  it('counts every attempt of a fixed-timeout Task and the backoff between them', () => {
    // 1 + 3 attempts of 60 s, waits of 2, 4 and 8 s.
    expect(fixedTaskSeconds({ States: { A: lambdaTask(60, 3) } })).toBe(4 * 60 + 2 + 4 + 8);
    // A path-timed Task adds only its backoff: its retries are of the call that starts it.
    expect(
      fixedTaskSeconds({
        States: {
          T: {
            Type: 'Task',
            TimeoutSecondsPath: '$.training.taskTimeoutSeconds',
            Retry: [{ MaxAttempts: 1 }],
          },
        },
      }),
    ).toBe(1);
  });

  it('wants the execution timeout the config was checked against', () => {
    expect(aslBudgetProblems({ ...base, TimeoutSeconds: 1_209_600 })).toEqual([
      expect.stringMatching(/^the execution TimeoutSeconds is 1209600, .* set it to 31536000$/),
    ]);
  });

  it('refuses a Task timed by a field that is not a budget, e.g. the per-attempt Batch timeout', () => {
    const problems = aslBudgetProblems({
      ...base,
      States: { Train: { Type: 'Task', TimeoutSecondsPath: '$.training.timeoutSeconds' } },
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^state Train: TimeoutSecondsPath \$\.training\.timeoutSeconds is not a budgeted timeout; use one of \$\.training\.taskTimeoutSeconds/,
      ),
    ]);
  });

  it('refuses fixed-timeout Tasks that outgrow the Lambda allowance', () => {
    const states = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`S${i}`, lambdaTask(900, 3)]));
    expect(aslBudgetProblems({ ...base, States: states })).toEqual([
      expect.stringMatching(
        /^the Tasks with a fixed timeout can take \d+ s with their retries, over the 7200 s/,
      ),
    ]);
  });

  it('refuses a Task with no timeout at all', () => {
    expect(aslBudgetProblems({ ...base, States: { A: { Type: 'Task' } } })).toEqual([
      'state A: a Task needs TimeoutSeconds or a budgeted TimeoutSecondsPath',
    ]);
  });
});

describe('LifecycleStateMachine', () => {
  it('fails synth with the file and the reason when the ASL’s timeouts do not add up', () => {
    const file = join(tmp, 'short.asl.json');
    writeFileSync(file, JSON.stringify({ ...asl, TimeoutSeconds: 1_209_600 }));
    const stack = new Stack(new App(), 'S');
    const functions = Object.fromEntries(
      aslFunctions().map((name) => [
        name,
        lambda.Function.fromFunctionArn(
          stack,
          name,
          `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
        ),
      ]),
    );
    const props = {
      project: 'mlcycle',
      functions,
      jobQueueArn: 'arn:aws:batch:us-east-1:123456789012:job-queue/q',
      jobDefinitionPrefix: 'mlcycle-trainer-',
      jobDefinitionArns: ['arn:aws:batch:us-east-1:123456789012:job-definition/mlcycle-trainer-churn'],
    };
    expect(() => new LifecycleStateMachine(stack, 'Bad', { ...props, definitionFile: file })).toThrow(
      `${file}: the timeouts do not add up: the execution TimeoutSeconds is 1209600`,
    );
    expect(() => new LifecycleStateMachine(stack, 'Good', props)).not.toThrow();
  });
});
