import { beforeAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../../lambdas/adapters/approval/approval-store.js';
import { makeApprovalHttpHandler } from '../../../lambdas/handlers/approval-http.js';
import { type DecisionResult, recordDecision } from '../../../lambdas/services/approvals/decide.js';
import type { TestDynamo } from '../../support/emulators.js';
import {
  type ApprovalWorld,
  getEvent,
  hiddenFields,
  idOf,
  linkFor,
  postEvent,
  RecordingSfn,
  requestFor,
  useApprovalWorld,
} from './fixtures.js';

/**
 * Holds each of the first `parties` deciders after it has read the request and its decisions
 * until all of them have: every one decides on the same snapshot and writes at once — the worst
 * interleaving for the conditional write. (Later reads, the losers' second rounds, pass.)
 */
class BarrierStore extends ApprovalStore {
  private waiting: (() => void)[] = [];
  private arrived = 0;
  constructor(
    world: ApprovalWorld,
    doc: TestDynamo['doc'],
    private readonly parties: number,
  ) {
    super(doc, world.table, () => world.now);
  }
  override async snapshot(requestId: string) {
    const read = await super.snapshot(requestId);
    if (++this.arrived > this.parties) return read;
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length >= this.parties) {
        for (const release of this.waiting.splice(0)) release();
      }
    });
    return read;
  }
}

describe('concurrent decisions on DynamoDB Local', () => {
  const suite = useApprovalWorld();
  let w: ApprovalWorld;
  let dynamo: TestDynamo;

  beforeAll(async () => {
    w = suite().world;
    dynamo = suite().dynamo;
  });

  it('the last two approvers of a 2-of-3 quorum posting at the same instant ⇒ exactly one SendTaskSuccess', async () => {
    for (let round = 0; round < 3; round++) {
      const { links, requestId } = await requestFor(w);
      // Both open their pages first, as people do, then submit together.
      const forms = await Promise.all(
        ['b@studio.test', 'c@studio.test'].map(async (who) => {
          const page = await w.http(getEvent(linkFor(links, who)));
          return hiddenFields(page.body ?? '');
        }),
      );
      const sfn = new RecordingSfn();
      const store = new BarrierStore(w, dynamo.doc, 2);
      const http = makeApprovalHttpHandler(() => ({
        store,
        registry: w.registry,
        objects: w.objects,
        bucket: w.bucket,
        sfn,
        key: async () => w.key,
        clock: () => w.now,
        drift: w.driftDeps,
      }));
      const answers = await Promise.all(
        forms.map((f, i) => http(postEvent(requestId, { ...f, decision: 'approve', comment: `last ${i}` }))),
      );
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200]);
      // Both decided on the same snapshot: one write lands first (1 of 2), the other is made
      // again on the new count and completes. The first page says the quorum was reached when
      // the completion landed before its answer, else what it counted.
      const bodies = answers.map((a) => a.body ?? '');
      expect(bodies.filter((b) => b.includes('Approved: quorum reached')).length).toBeGreaterThanOrEqual(1);
      for (const b of bodies) expect(b).toMatch(/Approved: quorum reached|Recorded: 1 of 2 approvals/);
      expect(sfn.successes).toHaveLength(1);
      expect(sfn.failures).toHaveLength(0);
      const output = JSON.parse(sfn.successes[0]?.output ?? '{}') as { approvedBy: { approver: string }[] };
      expect(output.approvedBy.map((a) => a.approver).sort()).toEqual(['b@studio.test', 'c@studio.test']);
      expect((await w.store.require(requestId)).status).toBe('approved');
      expect(idOf(linkFor(links, 'b@studio.test'))).toBe(requestId);
    }
  });

  it('without a barrier too: many rounds of simultaneous final approvals, one completion each', async () => {
    for (let round = 0; round < 5; round++) {
      const { requestId } = await requestFor(w);
      const sfn = new RecordingSfn();
      const deps = { store: w.store, registry: w.registry, sfn, clock: () => w.now };
      const results = await Promise.all(
        ['a@studio.test', 'b@studio.test', 'c@studio.test'].map((approver) =>
          recordDecision(deps, { requestId, approver, decision: 'approve', comment: '', via: 'cli' }).catch(
            (err: Error) => err,
          ),
        ),
      );
      const completed = results.filter(
        (r): r is DecisionResult => !(r instanceof Error) && r.completedByThisDecision,
      );
      expect(completed).toHaveLength(1);
      expect(sfn.successes).toHaveLength(1);
      // Anyone refused was refused because the request had completed, never by a lost write;
      // an approver whose tally ran before the others' writes saw it still waiting.
      for (const r of results) {
        if (r instanceof Error) expect(r.message).toContain('is already approved');
        else expect(['waiting', 'approved']).toContain(r.outcome);
      }
      expect((await w.store.require(requestId)).status).toBe('approved');
    }
  });

  it('concurrent approvals at quorum (all five of a 3-of-5 at once, forced to interleave) ⇒ exactly one completion, and nothing lands after it', async () => {
    const approvers = ['a@studio.test', 'b@studio.test', 'c@studio.test', 'd@studio.test', 'e@studio.test'];
    const { requestId } = await requestFor(w, { approvers, quorum: 3 });
    const sfn = new RecordingSfn();
    const store = new BarrierStore(w, dynamo.doc, 5);
    const results = await Promise.allSettled(
      approvers.map((approver) =>
        recordDecision(
          { store, registry: w.registry, sfn, clock: () => w.now },
          { requestId, approver, decision: 'approve', comment: 'ok', via: 'link' },
        ),
      ),
    );
    const recorded = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    expect(recorded).toHaveLength(3);
    expect(recorded.filter((r) => r.completedByThisDecision)).toHaveLength(1);
    expect(recorded.find((r) => r.completedByThisDecision)).toMatchObject({
      outcome: 'approved',
      delivery: 'delivered',
    });
    // The two that came after the quorum are told what was decided, and are not stored.
    expect(refused).toHaveLength(2);
    for (const e of refused) {
      expect(e).toMatchObject({
        name: 'ConflictError',
        message: expect.stringContaining('is already approved'),
      });
    }
    expect(sfn.calls).toHaveLength(1);
    expect(sfn.successes).toHaveLength(1);
    const stored = (await w.store.decisions(requestId)).map((d) => d.approver).sort();
    expect(stored).toEqual(recorded.map((r) => r.approver).sort());
    const output = JSON.parse(sfn.successes[0]?.output ?? '{}') as { approvedBy: { approver: string }[] };
    expect(output.approvedBy.map((a) => a.approver).sort()).toEqual(stored);
  });

  it('an approval and a rejection at the same instant ⇒ one callback in all; the first decisive write wins and the other is refused, not stored', async () => {
    for (let round = 0; round < 4; round++) {
      const { requestId, version } = await requestFor(w);
      const sfn = new RecordingSfn();
      const store = new BarrierStore(w, dynamo.doc, 3);
      const deps = { store, registry: w.registry, sfn, clock: () => w.now };
      const results = await Promise.allSettled([
        recordDecision(deps, {
          requestId,
          approver: 'a@studio.test',
          decision: 'approve',
          comment: '',
          via: 'link',
        }),
        recordDecision(deps, {
          requestId,
          approver: 'b@studio.test',
          decision: 'approve',
          comment: '',
          via: 'link',
        }),
        recordDecision(deps, {
          requestId,
          approver: 'c@studio.test',
          decision: 'reject',
          comment: 'too risky',
          via: 'link',
        }),
      ]);
      const final = (await w.store.require(requestId)).status;
      expect(['approved', 'rejected']).toContain(final);
      expect(sfn.calls).toHaveLength(1);
      const recorded = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(recorded.filter((r) => r.completedByThisDecision)).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(r.reason).toMatchObject({
            name: 'ConflictError',
            message: expect.stringContaining(`is already ${final}`),
          });
        }
      }
      // What is stored is exactly what was recorded: nothing landed after the completion.
      const stored = await w.store.decisions(requestId);
      expect(stored.map((d) => d.approver).sort()).toEqual(recorded.map((r) => r.approver).sort());
      if (final === 'rejected') {
        expect(sfn.failures).toMatchObject([
          { error: 'ApprovalRejected', cause: 'rejected by c@studio.test: too risky' },
        ]);
        expect((await w.registry.versions.requireVersion('churn', version)).status).toBe('rejected');
        expect(stored.filter((d) => d.decision === 'approve').length).toBeLessThan(2);
      } else {
        expect(sfn.successes).toHaveLength(1);
        expect(stored.map((d) => d.decision)).toEqual(['approve', 'approve']);
        expect((await w.registry.versions.requireVersion('churn', version)).status).toBe('validating');
      }
    }
  });

  it('one approver posting twice at once records one decision', async () => {
    const { requestId } = await requestFor(w);
    const sfn = new RecordingSfn();
    const deps = { store: w.store, registry: w.registry, sfn, clock: () => w.now };
    const results = await Promise.allSettled(
      [1, 2, 3].map(() =>
        recordDecision(deps, {
          requestId,
          approver: 'a@studio.test',
          decision: 'approve',
          comment: '',
          via: 'link',
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as Error).message).toContain('already decided (approve)');
    }
    expect(await w.store.decisions(requestId)).toHaveLength(1);
    expect(sfn.calls).toHaveLength(0);
  });
});
