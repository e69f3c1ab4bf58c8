import type { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import {
  type BatchJobStateChangeEvent,
  batchJobStateChangeEvent,
  batchJobStateChangeSchema,
  EARLY_STOP_REASON_PREFIX,
  TRIAL_JOB_PARAMETER,
} from '../../../lambdas/contracts/batch-jobs.js';
import { failedContainer, jobFailureCause } from '../../../lambdas/domain/pipeline/batch-job-outcome.js';
import { failureOutcome } from '../../../lambdas/domain/pipeline/failure-outcome.js';
import { batchJobEnded } from '../../../lambdas/services/pipeline/batch-job-ended.js';

/** A Step Functions client that records what was sent, or refuses as told. */
function fakeSfn(refuse?: string) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  return {
    sent,
    send: async (command: SendTaskSuccessCommand | SendTaskFailureCommand) => {
      if (refuse) throw Object.assign(new Error(refuse), { name: refuse });
      sent.push({
        name: command.constructor.name,
        input: command.input as unknown as Record<string, unknown>,
      });
      return {};
    },
  };
}

const container = (name: string, exitCode: number | null, reason = '', logStreamName = `${name}/x/1`) => ({
  name,
  exitCode,
  reason,
  logStreamName,
  logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/mlcycle/batch/train' } },
});

function event(status: string, containers: ReturnType<typeof container>[], token: string | null = 'tok-1') {
  return batchJobStateChangeSchema.parse(
    batchJobStateChangeEvent(
      {
        jobId: 'job-1',
        jobName: 'mlcycle-churn-r1',
        jobQueue: 'arn:aws:batch:eu-west-1:1:job-queue/q',
        status,
        statusReason: status === 'FAILED' ? 'Essential container in task exited' : null,
        parameters: token ? { mlcycleTaskToken: token } : {},
        ecsProperties: { taskProperties: [{ containers }] },
      },
      { region: 'eu-west-1', id: 'e-1' },
    ),
  ) as BatchJobStateChangeEvent;
}

describe('batch-job-ended: the end of a lifecycle Batch job completes the task that waits for it', () => {
  it('a SUCCEEDED job completes the task with its id and name', async () => {
    const sfn = fakeSfn();
    const out = await batchJobEnded({ sfn }, event('SUCCEEDED', [container('trainer', 0)]));
    expect(out).toEqual({ outcome: 'completed', status: 'SUCCEEDED' });
    expect(sfn.sent).toHaveLength(1);
    expect(sfn.sent[0]?.name).toBe('SendTaskSuccessCommand');
    expect(sfn.sent[0]?.input.taskToken).toBe('tok-1');
    expect(JSON.parse(String(sfn.sent[0]?.input.output))).toMatchObject({
      jobId: 'job-1',
      status: 'SUCCEEDED',
    });
  });

  it('a FAILED job fails the task with the trainer’s exit code, reason and logs link, not the stager’s', async () => {
    const sfn = fakeSfn();
    await batchJobEnded(
      { sfn },
      event('FAILED', [
        container('stage-in', 0),
        container(
          'trainer',
          137,
          'OutOfMemoryError: Container killed due to memory usage',
          'churn/trainer/abc',
        ),
        container('stage-out', null, 'DependencyViolation: dependent container trainer exited non-zero'),
      ]),
    );
    const sent = sfn.sent[0];
    expect(sent?.name).toBe('SendTaskFailureCommand');
    expect(sent?.input.error).toBe('Batch.JobFailed');
    const cause = JSON.parse(String(sent?.input.cause));
    expect(cause.Container).toEqual({
      Name: 'trainer',
      ExitCode: 137,
      Reason: 'OutOfMemoryError: Container killed due to memory usage',
      LogStreamName: 'churn/trainer/abc',
    });
    expect(cause.Logs).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fmlcycle$252Fbatch$252Ftrain/log-events/churn$252Ftrainer$252Fabc',
    );
    // RecordFailure's one line: the container's reason, then Batch's.
    expect(failureOutcome('training', String(sent?.input.error), String(sent?.input.cause)).detail).toContain(
      'OutOfMemoryError: Container killed due to memory usage — Essential container in task exited',
    );
  });

  it('a stager failure is named when the user’s container did not fail', () => {
    const parsed = event('FAILED', [
      container('stage-in', 1, 'no artifact: model.tar.gz does not exist'),
      container('predictor', null),
    ]);
    expect(failedContainer(parsed.detail)?.name).toBe('stage-in');
    expect(jobFailureCause(parsed.detail).Container.Reason).toBe('no artifact: model.tar.gz does not exist');
  });

  it('a job no task waits for (no token) is left alone', async () => {
    const sfn = fakeSfn();
    expect(await batchJobEnded({ sfn }, event('SUCCEEDED', [container('trainer', 0)], null))).toEqual({
      outcome: 'not-waited-for',
    });
    expect(sfn.sent).toEqual([]);
  });

  it('a task that stopped waiting (timed out, duplicate event) is not an error; anything else is', async () => {
    for (const gone of ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']) {
      expect(await batchJobEnded({ sfn: fakeSfn(gone) }, event('SUCCEEDED', []))).toEqual({
        outcome: 'task-gone',
        reason: gone,
      });
    }
    await expect(
      batchJobEnded({ sfn: fakeSfn('ThrottlingException') }, event('SUCCEEDED', [])),
    ).rejects.toThrow('ThrottlingException');
  });

  describe("a sweep trial's job terminated by its early stopping", () => {
    const terminated = (parameters: Record<string, string>, statusReason: string) =>
      batchJobStateChangeSchema.parse(
        batchJobStateChangeEvent(
          {
            jobId: 'job-2',
            jobName: 'mlcycle-churn-r2',
            status: 'FAILED',
            statusReason,
            parameters: { mlcycleTaskToken: 'tok-2', ...parameters },
            ecsProperties: { taskProperties: [{ containers: [container('trainer', 137)] }] },
          },
          { region: 'eu-west-1', id: 'e-2' },
        ),
      ) as BatchJobStateChangeEvent;
    const watcherReason = `${EARLY_STOP_REASON_PREFIX}stopped while training, after epoch 3: ASHA rung 0 (epoch 2): …`;

    it('completes its task STOPPED (CheckTrial then holds it to the run record)', async () => {
      const sfn = fakeSfn();
      await batchJobEnded({ sfn }, terminated({ [TRIAL_JOB_PARAMETER]: 'true' }, watcherReason));
      expect(sfn.sent.map((c) => c.name)).toEqual(['SendTaskSuccessCommand']);
      expect(JSON.parse(String(sfn.sent[0]?.input.output))).toMatchObject({
        jobId: 'job-2',
        status: 'STOPPED',
      });
    });

    it("fails the task as any failed job when it is not a trial's, or not the watcher's reason", async () => {
      for (const e of [
        // A run's Train job terminated with the watcher's words is still a failure.
        terminated({}, watcherReason),
        // A trial's job that failed otherwise (terminated by someone else, or crashed).
        terminated({ [TRIAL_JOB_PARAMETER]: 'true' }, 'Terminated by the operator'),
        terminated({ [TRIAL_JOB_PARAMETER]: 'yes' }, watcherReason),
      ]) {
        const sfn = fakeSfn();
        await batchJobEnded({ sfn }, e);
        expect(sfn.sent.map((c) => c.name)).toEqual(['SendTaskFailureCommand']);
        expect(sfn.sent[0]?.input.error).toBe('Batch.JobFailed');
      }
    });
  });
});
