import type { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { OutboxAlertPublisher, OutboxMailer } from '../../lambdas/adapters/notifier.js';
import { ExecutionFailures } from '../../lambdas/adapters/pipeline/execution-failures.js';
import { Executions } from '../../lambdas/adapters/stepfunctions/executions.js';
import { lifecycleJobName } from '../../lambdas/contracts/batch-jobs.js';
import { executionStatusChangeEvent } from '../../lambdas/contracts/execution-events.js';
import type { RunStatus } from '../../lambdas/domain/registry/types.js';
import { makeExecutionEndedHandler } from '../../lambdas/handlers/execution-ended.js';
import type { ExecutionEndedResult } from '../../lambdas/services/pipeline/execution-ended.js';
import { LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { FakeHistory } from '../support/fake-history.js';
import { type HandlerWorld, handlerWorld, MODEL, pipelineState, putTrialRun, runInfo } from './fixtures.js';

const SM = `arn:aws:states:${LOCAL_REGION}:000000000000:stateMachine:mlcycle-lifecycle`;

/** A sweep's execution ended (stopped, or failed where nothing caught it) while trials ran. */
describe('execution-ended handler: a sweep', () => {
  let w: HandlerWorld;
  const history = new FakeHistory();
  const terminated: string[] = [];
  let handler: (event: unknown) => Promise<ExecutionEndedResult>;

  beforeAll(async () => {
    w = await handlerWorld('executionEnded');
    handler = makeExecutionEndedHandler(() => ({
      registry: w.registry,
      approvals: new ApprovalStore(w.dynamo.doc, w.table),
      failures: new ExecutionFailures(w.dynamo.doc, w.table),
      executions: new Executions(history as unknown as SFNClient),
      alerts: new OutboxAlertPublisher(new OutboxMailer(w.outboxDir, 'mlcycle@studio.test')),
      jobs: {
        stopJobs: async (names: readonly string[]) => {
          terminated.push(...names);
          return [];
        },
      },
    }));
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('fails the trials still going and terminates their jobs, and those of a trial cancelled just before the stop', async () => {
    const name = 'churn-staging-sweep-20300101T000000000Z-ab12';
    const executionArn = `${SM.replace(':stateMachine:', ':execution:')}:${name}`;
    const trial = async (index: number, status: RunStatus) => {
      const runId = `2030010${index}T000000Z-sweep${index}`;
      await putTrialRun(w, {
        sweepId: name,
        trial: index,
        runId,
        status,
        ...(status === 'cancelled'
          ? { cancelled: { by: 'requestor@studio.test', at: '2030-01-01T00:01:00.000Z', reason: 'wrong l2' } }
          : {}),
      });
      return runId;
    };
    // The last state entered was trial 0's; trial 1 was cancelled (`runs cancel`, which then stops
    // the execution), trial 2 had finished, trial 3 was evaluating.
    const [t0, t1, t2, t3] = [
      await trial(0, 'training'),
      await trial(1, 'cancelled'),
      await trial(2, 'evaluated'),
      await trial(3, 'evaluating'),
    ];
    const rules = { id: name, metric: 'auc', direction: 'max' } as never;
    const last = pipelineState({
      execution: { arn: executionArn, name },
      trial: { index: 0, overrides: {}, hyperparameters: {}, rules },
      run: runInfo(w.bucket, t0 as string),
    } as never);
    history.states.set(executionArn, [last as unknown as Record<string, unknown>]);
    const out = await handler(
      executionStatusChangeEvent(
        {
          executionArn,
          stateMachineArn: SM,
          name,
          status: 'ABORTED',
          startDate: Date.now() - 60_000,
          stopDate: Date.now(),
          input: JSON.stringify(last),
          error: 'mlcycle.RunCancelled',
          cause: `run ${t1} cancelled by requestor@studio.test: wrong l2`,
        },
        { region: LOCAL_REGION, account: '000000000000', id: 'e-sweep' },
      ),
    );
    expect(out.runFailed).toBe(t0);
    expect(out.trialsFailed).toEqual([t3]);
    const jobsOf = (runId: string) => [
      lifecycleJobName('train', MODEL, runId),
      lifecycleJobName('predict', MODEL, runId),
    ];
    // The cancelled trial's training job would otherwise hold its GPU instance until its timeout.
    expect(terminated).toEqual(
      expect.arrayContaining([...jobsOf(t0 as string), ...jobsOf(t3 as string), ...jobsOf(t1 as string)]),
    );
    expect(terminated).not.toEqual(expect.arrayContaining(jobsOf(t2 as string).slice(0, 1)));
    expect((await w.registry.runs.getRun(MODEL, t1 as string))?.status).toBe('cancelled');
    expect((await w.registry.runs.getRun(MODEL, t2 as string))?.status).toBe('evaluated');
  });
});
