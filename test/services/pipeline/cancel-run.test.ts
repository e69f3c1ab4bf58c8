import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/adapters/config-file.js';
import { Registry } from '../../../lambdas/adapters/registry/registry.js';
import type { ApprovalRequest } from '../../../lambdas/domain/approval/types.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  TransientError,
  ValidationError,
} from '../../../lambdas/domain/errors.js';
import type { RunRecord } from '../../../lambdas/domain/registry/types.js';
import { type CancelRunDeps, cancelRun } from '../../../lambdas/services/pipeline/cancel-run.js';
import { startTestDynamo, type TestDynamo, tableSnapshot } from '../../support/emulators.js';

/**
 * `runs cancel` on DynamoDB Local: who may cancel is the deployed config's (the requester, the
 * stage's approvers and rollbackBy), the run is recorded cancelled before its execution is
 * stopped, an ended run is refused naming its status, and nothing a still-running state or the
 * failure path writes afterwards turns it into a failure.
 */
const config = parseConfig(
  {
    models: { churn: { target: 'churned', training: { hyperparameters: { epochs: 3 } } } },
    environments: {
      staging: { approvers: ['a@studio.test'], quorum: 1 },
      production: { approvers: ['b@studio.test'], quorum: 1, rollbackBy: ['oncall@studio.test'] },
    },
  },
  'cancel test config',
);
const REQUESTER = 'scientist@studio.test';
const ARN = 'arn:aws:states:us-east-1:000000000000:execution:mlcycle-lifecycle:churn-run';
const AT = new Date('2030-01-02T03:04:05.000Z');

/** Step Functions as the service sees it: which executions it was asked to stop, and how. */
class StopLog {
  readonly calls: { arn: string; error: string; cause: string }[] = [];
  running = true;
  failWith: Error | undefined;
  async stop(arn: string, error: string, cause: string): Promise<boolean> {
    if (this.failWith) throw this.failWith;
    this.calls.push({ arn, error, cause });
    return this.running;
  }
}

describe('cancelRun on DynamoDB Local', () => {
  let dynamo: TestDynamo;
  let table: string;
  let registry: Registry;
  let sfn: StopLog;
  let deps: CancelRunDeps;
  /** The Batch jobs terminated, by name, with the reason; set `jobsFail` to refuse. */
  let terminated: { names: readonly string[]; reason: string }[];
  let jobsFail: Error | undefined;
  /** The approval request of a version for a stage, by status (the store's lookup). */
  let approvals: Map<string, ApprovalRequest['status']>;

  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  beforeEach(async () => {
    table = await dynamo.newTable();
    registry = new Registry(dynamo.doc, table);
    sfn = new StopLog();
    approvals = new Map();
    terminated = [];
    jobsFail = undefined;
    deps = {
      jobs: {
        stopJobs: async (names: readonly string[], reason: string) => {
          if (jobsFail) throw jobsFail;
          terminated.push({ names, reason });
          return names.slice(0, 1).map((n) => `job-of-${n}`);
        },
      },
      config,
      registry,
      executions: sfn,
      approvals: {
        findForVersion: async (model: string, version: string, stage: string) => {
          const status = approvals.get(`${model} ${version} ${stage}`);
          return status ? ({ status } as ApprovalRequest) : undefined;
        },
      },
      clock: () => AT,
    };
  });

  async function run(runId: string, over: Partial<RunRecord> = {}): Promise<RunRecord> {
    const record: RunRecord = {
      model: 'churn',
      runId,
      stage: 'production',
      status: 'training',
      trigger: 'manual',
      executionArn: `${ARN}-${runId}`,
      requestedBy: REQUESTER,
      reason: 'try a deeper net',
      datasetUri: 's3://b/datasets/churn/d.csv',
      hyperparameters: { epochs: 3 },
      startedAt: '2030-01-02T03:00:00.000Z',
      ...over,
    };
    await registry.runs.putRun(record);
    return record;
  }

  it('the requester cancels a training run: recorded with who, when and why, then its execution stopped with that cause', async () => {
    await run('r1');
    const out = await cancelRun(deps, {
      model: 'churn',
      runId: 'r1',
      reason: ' wrong dataset ',
      actor: REQUESTER,
    });
    expect(out).toMatchObject({ status: 'cancelled', was: 'training', executionStopped: true });
    const stored = await registry.runs.getRun('churn', 'r1');
    expect(stored?.status).toBe('cancelled');
    expect(stored?.cancelled).toEqual({ by: REQUESTER, at: AT.toISOString(), reason: 'wrong dataset' });
    expect(stored?.finishedAt).toBe(AT.toISOString());
    expect(sfn.calls).toEqual([
      {
        arn: `${ARN}-r1`,
        error: 'mlcycle.RunCancelled',
        cause: `run r1 cancelled by ${REQUESTER}: wrong dataset`,
      },
    ]);
  });

  it('the stage’s approvers and its rollbackBy people may cancel too (case-insensitively), whatever the status while it runs', async () => {
    await run('r2', { status: 'evaluating' });
    await run('r3', { status: 'registered', version: '1.0.0' });
    expect(
      (await cancelRun(deps, { model: 'churn', runId: 'r2', reason: 'x', actor: 'B@Studio.test' })).was,
    ).toBe('evaluating');
    expect(
      (await cancelRun(deps, { model: 'churn', runId: 'r3', reason: 'x', actor: 'oncall@studio.test' })).was,
    ).toBe('registered');
  });

  it('anyone else is refused (403) naming who may, and nothing is written or stopped', async () => {
    await run('r4');
    const before = await tableSnapshot(dynamo.doc, table);
    // a@ approves staging, not production (the run's stage): the policy is per stage.
    for (const actor of ['mallory@studio.test', 'a@studio.test']) {
      const refused = cancelRun(deps, { model: 'churn', runId: 'r4', reason: 'mine now', actor });
      await expect(refused).rejects.toBeInstanceOf(ForbiddenError);
      await expect(refused).rejects.toThrow(
        `${actor} may not cancel run r4 of churn (allowed: ${REQUESTER}, b@studio.test, oncall@studio.test`,
      );
    }
    expect(await tableSnapshot(dynamo.doc, table)).toBe(before);
    expect(sfn.calls).toEqual([]);
  });

  it('an ended run is refused (409) naming how it ended; a second cancel names the first', async () => {
    await run('r5', { status: 'succeeded', version: '1.0.0' });
    await expect(
      cancelRun(deps, { model: 'churn', runId: 'r5', reason: 'x', actor: REQUESTER }),
    ).rejects.toThrow(
      new ConflictError('run r5 of churn has already ended: it is succeeded; nothing to cancel'),
    );
    await run('r6');
    await cancelRun(deps, { model: 'churn', runId: 'r6', reason: 'first', actor: REQUESTER });
    const again = cancelRun(deps, { model: 'churn', runId: 'r6', reason: 'second', actor: 'b@studio.test' });
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toThrow(`it is cancelled (by ${REQUESTER}: first)`);
    expect(sfn.calls).toHaveLength(1);
  });

  it('a run whose version is approved for its stage (or needs no approval) is deploying: refused (409), nothing written', async () => {
    await run('r11', { status: 'registered', version: '1.1.0' });
    approvals.set('churn 1.1.0 production', 'approved');
    const before = await registry.runs.getRun('churn', 'r11');
    const refused = cancelRun(deps, { model: 'churn', runId: 'r11', reason: 'x', actor: REQUESTER });
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toThrow(
      'run r11 of churn registered 1.1.0, which is approved for production and is being deployed: it can no longer be cancelled; if it must not serve, roll back: mlcycle models rollback churn --stage production --reason …',
    );
    const noApproval = parseConfig(
      {
        models: { churn: { target: 'churned' } },
        environments: {
          staging: { approvers: ['a@studio.test'] },
          production: { approvers: ['b@studio.test'], quorum: 0 },
        },
      },
      'no approval',
    );
    await run('r12', { status: 'registered', version: '1.2.0' });
    await expect(
      cancelRun(
        { ...deps, config: noApproval },
        { model: 'churn', runId: 'r12', reason: 'x', actor: REQUESTER },
      ),
    ).rejects.toThrow(/1\.2\.0, which needs no approval for production and is being deployed/);
    expect(await registry.runs.getRun('churn', 'r11')).toEqual(before);
    expect(sfn.calls).toEqual([]);
    // Still waiting for its approval (pending): it can be cancelled.
    approvals.set('churn 1.1.0 production', 'pending');
    expect((await cancelRun(deps, { model: 'churn', runId: 'r11', reason: 'x', actor: REQUESTER })).was).toBe(
      'registered',
    );
  });

  it('an unknown run is a 404, an unknown model and an empty reason are refused before anything is read', async () => {
    await expect(
      cancelRun(deps, { model: 'churn', runId: 'nope', reason: 'x', actor: REQUESTER }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      cancelRun(deps, { model: 'ltv', runId: 'r', reason: 'x', actor: REQUESTER }),
    ).rejects.toThrow(/ltv/);
    await run('r7');
    await expect(
      cancelRun(deps, { model: 'churn', runId: 'r7', reason: '  ', actor: REQUESTER }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect((await registry.runs.getRun('churn', 'r7'))?.status).toBe('training');
  });

  it('when the execution cannot be stopped the run goes back to what it was (no half-cancelled run)', async () => {
    const before = await run('r8', { status: 'evaluating' });
    sfn.failWith = new TransientError('Step Functions throttled the request; try again');
    await expect(
      cancelRun(deps, { model: 'churn', runId: 'r8', reason: 'x', actor: REQUESTER }),
    ).rejects.toBeInstanceOf(TransientError);
    // Field for field what it was (no cancelled, no finishedAt).
    expect(await registry.runs.getRun('churn', 'r8')).toEqual(before);
  });

  it('an execution that had already ended leaves the run cancelled all the same, and says so', async () => {
    await run('r9');
    sfn.running = false;
    const out = await cancelRun(deps, { model: 'churn', runId: 'r9', reason: 'x', actor: REQUESTER });
    expect(out.executionStopped).toBe(false);
    expect((await registry.runs.getRun('churn', 'r9'))?.status).toBe('cancelled');
  });

  it('what the stopped execution still writes (a state finishing, RecordFailure, the ended-execution handler) leaves it cancelled', async () => {
    await run('r10');
    await cancelRun(deps, { model: 'churn', runId: 'r10', reason: 'stop it', actor: REQUESTER });
    await registry.runs.updateRun('churn', 'r10', { status: 'evaluating' });
    await registry.runs.updateRun('churn', 'r10', { logs: '/tmp/r10.log' });
    await registry.runs.updateRun('churn', 'r10', {
      status: 'failed',
      failure: { kind: 'training', error: 'States.TaskFailed', cause: 'killed' },
    });
    expect(
      await registry.runs.failRunIfActive(
        'churn',
        'r10',
        { kind: 'aborted', error: 'ABORTED', cause: '' },
        'now',
      ),
    ).toBe(false);
    const stored = await registry.runs.getRun('churn', 'r10');
    expect(stored?.status).toBe('cancelled');
    expect(stored?.failure).toBeUndefined();
    // A patch that does not move the status still applies (the logs link of the job).
    expect(stored?.logs).toBe('/tmp/r10.log');
    await expect(registry.runs.updateRun('churn', 'gone', { status: 'failed' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('a sweep trial alone is cancelled: its jobs terminated with the cause, the sweep’s execution left running', async () => {
    const sweep = { id: 'churn-production-sweep-1', trial: 2 };
    await run('t2', { sweep });
    const out = await cancelRun(deps, { model: 'churn', runId: 't2', reason: 'wrong l2', actor: REQUESTER });
    expect(out).toMatchObject({
      status: 'cancelled',
      was: 'training',
      executionStopped: false,
      trialOf: { sweepId: sweep.id, trial: 2, jobsStopped: ['job-of-mlcycle-churn-t2'] },
    });
    expect(sfn.calls).toEqual([]);
    expect(terminated).toEqual([
      {
        names: ['mlcycle-churn-t2', 'mlcycle-predict-churn-t2'],
        reason: `mlcycle: run t2 cancelled by ${REQUESTER}: wrong l2`,
      },
    ]);
    expect((await registry.runs.getRun('churn', 't2'))?.cancelled).toMatchObject({
      by: REQUESTER,
      reason: 'wrong l2',
    });
  });

  it('a trial whose jobs cannot be terminated goes back to what it was; the trial the sweep chose stops the execution as any run', async () => {
    await run('t3', { status: 'evaluating', sweep: { id: 'churn-production-sweep-1', trial: 3 } });
    jobsFail = Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
    await expect(
      cancelRun(deps, { model: 'churn', runId: 't3', reason: 'x', actor: REQUESTER }),
    ).rejects.toThrow('Rate exceeded');
    expect((await registry.runs.getRun('churn', 't3'))?.status).toBe('evaluating');
    jobsFail = undefined;
    await run('t4', {
      status: 'registered',
      version: '1.4.0',
      sweep: { id: 'churn-production-sweep-1', trial: 4, best: true },
    });
    const chosen = await cancelRun(deps, {
      model: 'churn',
      runId: 't4',
      reason: 'not now',
      actor: REQUESTER,
    });
    expect(chosen).toMatchObject({ executionStopped: true });
    expect(chosen.trialOf).toBeUndefined();
    expect(sfn.calls.map((c) => c.arn)).toEqual([`${ARN}-t4`]);
    expect(terminated).toEqual([]);
  });
});
