import { TaskTimedOut } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionDescription } from '../../../lambdas/adapters/stepfunctions/executions.js';
import { recordDecision } from '../../../lambdas/services/approvals/decide.js';
import { type ReconcileDeps, reconcileApprovals } from '../../../lambdas/services/approvals/reconcile.js';
import { type ApprovalWorld, RecordingSfn, requestFor, useApprovalWorld } from './fixtures.js';

/** Step Functions' view of each execution (DescribeExecution); unknown ones do not exist. */
class FakeExecutions {
  readonly byArn = new Map<string, ExecutionDescription>();
  set(executionArn: string, status: string, extra: Partial<ExecutionDescription> = {}) {
    this.byArn.set(executionArn, { executionArn, status, ...extra });
  }
  async describe(executionArn: string) {
    return this.byArn.get(executionArn);
  }
}

/** Step Functions that cannot be reached (as when `up` is stopped). */
class UnreachableSfn extends RecordingSfn {
  override async send(command: Parameters<RecordingSfn['send']>[0]): Promise<unknown> {
    this.calls.push(command);
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4'), { code: 'ECONNREFUSED' });
  }
}

describe('approval reconciler (DynamoDB Local)', () => {
  const suite = useApprovalWorld();
  let w: ApprovalWorld;
  const executions = new FakeExecutions();
  const ended: { executionArn: string; status: string }[] = [];
  const noWait = async () => undefined;

  beforeAll(() => {
    w = suite().world;
  });

  function reconcile(sfn = new RecordingSfn()) {
    const deps: ReconcileDeps = {
      store: w.store,
      sfn,
      executions,
      executionEnded: async (e) => {
        ended.push(e);
        // What the execution-ended use case does to the requests (tested on its own).
        for (const r of await w.store.openForExecution(e.executionArn)) {
          if (r.status === 'pending') await w.store.close(r.requestId, 'closed: ended');
          else await w.store.signals.undeliverable(r, 'closed: ended');
        }
      },
      sleep: noWait,
    };
    return { sfn, result: reconcileApprovals(deps) };
  }

  /** A request approved at quorum while Step Functions was unreachable: approved, callback owed. */
  async function approvedUndelivered(executionStatus?: string) {
    const { requestId } = await requestFor(w, { quorum: 1 });
    // (Each request of the fixture names the execution of its own version.)
    const request = await w.store.require(requestId);
    const out = await recordDecision(
      { store: w.store, registry: w.registry, sfn: new UnreachableSfn(), clock: () => w.now, sleep: noWait },
      { requestId, approver: 'a@studio.test', decision: 'approve', comment: 'ok', via: 'cli' },
    );
    expect(out).toMatchObject({ outcome: 'approved', delivery: 'pending' });
    if (executionStatus) executions.set(request.executionArn, executionStatus);
    return w.store.require(requestId);
  }

  it('redelivers an owed callback while the execution runs: SendTaskSuccess with the stored output, then settled', async () => {
    const request = await approvedUndelivered('RUNNING');
    expect(request).toMatchObject({ status: 'approved', signalStatus: 'pending', signalAttempts: 1 });
    const { sfn, result } = reconcile();
    expect((await result).delivered).toContain(request.requestId);
    expect(sfn.successes).toEqual([
      {
        taskToken: request.taskToken,
        output: request.signal?.kind === 'success' ? request.signal.output : '',
      },
    ]);
    expect(await w.store.require(request.requestId)).toMatchObject({
      status: 'approved',
      signalStatus: 'delivered',
    });
    expect((await w.store.signals.listOwed()).map((r) => r.requestId)).not.toContain(request.requestId);

    // Nothing more to do on the next run.
    const next = reconcile();
    expect((await next.result).delivered).not.toContain(request.requestId);
    expect(next.sfn.calls).toHaveLength(0);
  });

  it('leaves a callback alone while the deciding caller still holds it', async () => {
    const { requestId } = await requestFor(w, { quorum: 1 });
    // A decision in flight: completed and leased, not delivered yet.
    const snapshot = await w.store.snapshot(requestId);
    await w.store.recordDecision(
      {
        requestId,
        approver: 'a@studio.test',
        decision: 'approve',
        comment: '',
        decidedAt: w.now.toISOString(),
        via: 'link',
      },
      snapshot.decisions.length,
      {
        status: 'approved',
        note: 'approved by a@studio.test',
        signal: { kind: 'success', output: '{}' },
        leaseUntil: new Date(w.now.getTime() + 60_000).toISOString(),
      },
    );
    executions.set(snapshot.request.executionArn, 'RUNNING');
    const { sfn, result } = reconcile();
    const out = await result;
    expect([...out.delivered, ...out.pending, ...out.closed]).not.toContain(requestId);
    expect(sfn.calls).toHaveLength(0);
  });

  it('Step Functions refuses while the execution still runs (the wait timed out, or an earlier delivery got through): kept owed until the execution ends', async () => {
    const request = await approvedUndelivered('RUNNING');
    const refusing = new RecordingSfn();
    refusing.send = async (command) => {
      refusing.calls.push(command);
      throw new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} });
    };
    const { result } = reconcile(refusing);
    expect((await result).pending).toContain(request.requestId);
    expect(await w.store.require(request.requestId)).toMatchObject({
      status: 'approved',
      signalStatus: 'pending',
      signalLastError: expect.stringContaining('TaskTimedOut'),
    });

    // It then ends (the timeout path fails it): the request is closed through the execution-ended path.
    executions.set(request.executionArn, 'FAILED', { error: 'mlcycle.ApprovalTimedOut' });
    const after = await reconcile().result;
    expect(after.closed).toContain(request.requestId);
    expect(ended.at(-1)).toMatchObject({
      executionArn: request.executionArn,
      status: 'FAILED',
      error: 'mlcycle.ApprovalTimedOut',
    });
    expect(await w.store.require(request.requestId)).toMatchObject({
      status: 'closed',
      signalStatus: 'undeliverable',
    });
  });

  it('an execution that went on and succeeded: the callback got there, only its confirmation was lost', async () => {
    const request = await approvedUndelivered('SUCCEEDED');
    const { sfn, result } = reconcile();
    expect((await result).delivered).toContain(request.requestId);
    expect(sfn.calls).toHaveLength(0);
    expect((await w.store.require(request.requestId)).signalStatus).toBe('delivered');
  });

  it('closes undecided requests whose execution ended (through the execution-ended path) or no longer exists; leaves running ones', async () => {
    const stopped = await requestFor(w);
    const gone = await requestFor(w);
    const running = await requestFor(w);
    const arnOf = async (id: string) => (await w.store.require(id)).executionArn;
    executions.set(await arnOf(stopped.requestId), 'ABORTED');
    executions.set(await arnOf(running.requestId), 'RUNNING');
    executions.byArn.delete(await arnOf(gone.requestId));

    const out = await reconcile().result;
    expect(out.closed).toEqual(expect.arrayContaining([stopped.requestId, gone.requestId]));
    expect(out.closed).not.toContain(running.requestId);
    expect(out.endedExecutions).toContain(await arnOf(stopped.requestId));
    expect((await w.store.require(stopped.requestId)).status).toBe('closed');
    expect(await w.store.require(gone.requestId)).toMatchObject({
      status: 'closed',
      outcomeNote: 'the pipeline execution no longer exists: nothing will deploy',
    });
    expect((await w.store.require(running.requestId)).status).toBe('pending');
  });
});
