import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BATCH_JOB_RESOURCE } from '../../lambdas/contracts/batch-jobs.js';
import type { AslDefinition } from '../../local/stepfunctions/definition.js';
import { LocalStepFunctions, type TaskRunner } from '../../local/stepfunctions/engine.js';

/**
 * The embedded engine enforces TimeoutSecondsPath itself, with Step Functions' semantics: the
 * path is read from the state's input, not from what Parameters make of it. The Train state
 * relies on it: its task timeout (`$.training.taskTimeoutSeconds`) is not the per-attempt
 * timeout Parameters pass to Batch (`Timeout.AttemptDurationSeconds`).
 */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const definition: AslDefinition = {
  StartAt: 'Train',
  States: {
    Train: {
      Type: 'Task',
      Resource: BATCH_JOB_RESOURCE,
      Parameters: {
        JobName: 'job',
        Parameters: { 'mlcycleTaskToken.$': '$$.Task.Token' },
        Timeout: { 'AttemptDurationSeconds.$': '$.training.timeoutSeconds' },
      },
      TimeoutSecondsPath: '$.training.taskTimeoutSeconds',
      ResultPath: '$.train',
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' }],
      Next: 'Trained',
    },
    Trained: { Type: 'Succeed' },
    TimedOut: { Type: 'Fail', Error: 'TimedOut', Cause: 'the Train task timed out' },
  },
};

/** An engine whose Batch job takes `jobMs` and records the parameters it was given. */
function engine(
  jobMs: number,
  executionTimeoutSeconds?: number,
): { sfn: LocalStepFunctions; submitted: unknown[] } {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-local-timeouts-'));
  dirs.push(dir);
  const submitted: unknown[] = [];
  // What the batch-job-ended handler does when the job ends: complete the task by its token.
  const runner: TaskRunner = {
    lambda: async () => ({}),
    invokeAsync: async () => undefined,
    submitBatchJob: async (params) => {
      submitted.push(params);
      const token = (params as { Parameters: { mlcycleTaskToken: string } }).Parameters.mlcycleTaskToken;
      setTimeout(() => {
        try {
          sfn.sendTaskSuccess(token, JSON.stringify({ jobId: 'j', status: 'SUCCEEDED' }));
        } catch {
          // the task timed out first
        }
      }, jobMs);
      return { JobId: 'j' };
    },
  };
  const sfn = new LocalStepFunctions({
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:test',
    definition: executionTimeoutSeconds
      ? { ...definition, TimeoutSeconds: executionTimeoutSeconds }
      : definition,
    runner,
    dir,
  });
  return { sfn, submitted };
}

describe('TimeoutSecondsPath on the embedded engine', () => {
  it('times the task by the field in the state input, not by the per-attempt timeout', async () => {
    // Each attempt may run 1 s, the task 10 s: a 2-second job finishes.
    const { sfn } = engine(2000);
    const run = sfn.startExecution({ training: { timeoutSeconds: 1, taskTimeoutSeconds: 10 } }, 'long-task');
    const done = await sfn.settled(run.executionArn);
    expect(done.error ?? '').toBe('');
    expect(done.status).toBe('SUCCEEDED');
  });

  it('ends the task with States.Timeout when the task budget runs out, whatever the attempt timeout', async () => {
    const { sfn } = engine(5000);
    const started = Date.now();
    const run = sfn.startExecution({ training: { timeoutSeconds: 60, taskTimeoutSeconds: 1 } }, 'short-task');
    const done = await sfn.settled(run.executionArn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('TimedOut');
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('passes Batch exactly the parameters of the ASL (nothing the engine needed for itself)', async () => {
    const { sfn, submitted } = engine(10);
    const run = sfn.startExecution({ training: { timeoutSeconds: 7, taskTimeoutSeconds: 20 } }, 'params');
    await sfn.settled(run.executionArn);
    expect(submitted).toEqual([
      {
        JobName: 'job',
        Parameters: { mlcycleTaskToken: expect.stringMatching(/^local:params:/) },
        Timeout: { AttemptDurationSeconds: 7 },
      },
    ]);
  });

  it('lets a task budget past Node’s 24.8-day timer limit run, not time out at once', async () => {
    const { sfn } = engine(300);
    const run = sfn.startExecution(
      { training: { timeoutSeconds: 7, taskTimeoutSeconds: 8000 * 3600 } },
      'long-wait',
    );
    const done = await sfn.settled(run.executionArn);
    expect(done.status).toBe('SUCCEEDED');
  });

  it('fails the state, naming the path, when the input has no such field (as States.Runtime on AWS)', async () => {
    const { sfn } = engine(10);
    const run = sfn.startExecution({ training: { timeoutSeconds: 7 } }, 'no-field');
    const done = await sfn.settled(run.executionArn);
    expect(done.status).toBe('FAILED');
    expect(`${done.error} ${done.cause}`).toMatch(/\$\.training\.taskTimeoutSeconds/);
  });
});

describe('the execution timeout on the embedded engine', () => {
  it('lets a one-year execution timeout (past Node’s 24.8-day timer limit) run, not fire at once', async () => {
    const { sfn } = engine(300, 365 * 24 * 3600);
    const run = sfn.startExecution({ training: { timeoutSeconds: 7, taskTimeoutSeconds: 20 } }, 'one-year');
    const done = await sfn.settled(run.executionArn);
    expect(done.status).toBe('SUCCEEDED');
  });

  it('ends an execution that outlives its TimeoutSeconds as TIMED_OUT with States.Timeout', async () => {
    const { sfn } = engine(5000, 1);
    const started = Date.now();
    const run = sfn.startExecution({ training: { timeoutSeconds: 60, taskTimeoutSeconds: 60 } }, 'too-long');
    const done = await sfn.settled(run.executionArn);
    expect(done.status).toBe('TIMED_OUT');
    expect(done.error).toBe('States.Timeout');
    expect(Date.now() - started).toBeLessThan(4000);
  });
});
