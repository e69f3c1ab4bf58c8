import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalLinkIn, approveThroughLink, readOutbox } from '../../../bin/cli/demo-approver.js';
import { ApprovalStore } from '../../../lambdas/adapters/approval/approval-store.js';
import { createDocumentClient } from '../../../lambdas/adapters/aws-clients.js';
import { Registry } from '../../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../../local/data/churn.js';
import { startAs, startTestStack, type TestStack } from '../../support/local-stack.js';

/**
 * Decisions made through the emailed links, end to end on the embedded default: an approval
 * lands in the promotion ledger entry with the approver and their comment; a rejection marks the
 * version rejected with the approver and comment in its history, is recorded in the stage's
 * ledger as a `reject` entry, and moves no stage.
 */
describe('approval decisions in the registry and the promotion ledger', () => {
  let t: TestStack;
  let registry: Registry;
  let approvals: ApprovalStore;
  const APPROVER = 'lead@studio.test';

  beforeAll(async () => {
    t = await startTestStack();
    const doc = createDocumentClient(t.stack.dynamo.client);
    registry = new Registry(doc, t.stack.endpoints.tableName);
    approvals = new ApprovalStore(doc, t.stack.endpoints.tableName);
    await new S3Objects(t.stack.s3.client).put(
      { bucket: t.stack.endpoints.bucket, key: 'datasets/churn/churn.csv' },
      churnCsv({ rows: 2000, seed: 5 }),
      'text/csv',
    );
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function runAndDecide(decision: 'approve' | 'reject', comment: string) {
    const before = readOutbox(t.stack.endpoints.outboxDir).length;
    const executionArn = await startAs(t.stack, 'ds@studio.test', {
      model: 'churn',
      stage: 'staging',
      reason: 'weekly',
      // The same dataset each time: without force, a run after the first deploy would be skipped.
      force: true,
    });
    const deadline = Date.now() + 30_000;
    let link: string | undefined;
    while (!link && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      link = readOutbox(t.stack.endpoints.outboxDir)
        .slice(before)
        .map((m) => approvalLinkIn(m.text))
        .find(Boolean);
    }
    if (!link) throw new Error('no approval email arrived');
    expect(link.length).toBeLessThan(300);
    const visit = await approveThroughLink(link, decision, comment, ['churn']);
    expect(visit.postStatus).toBe(200);
    return t.stack.engine.settled(executionArn);
  }

  it('an approval is in the ledger entry of the promotion, with the approver and the comment', async () => {
    const result = await runAndDecide('approve', 'AUC holds up on the new cohort');
    expect(result.status).toBe('SUCCEEDED');
    const [entry] = await registry.stages.history('churn', { stage: 'staging' });
    expect(entry?.evidence.approvals).toEqual([
      { approver: APPROVER, comment: 'AUC holds up on the new cohort', decidedAt: expect.any(String) },
    ]);
  });

  it('a rejection marks the version rejected, lands in the ledger, and moves no stage', async () => {
    const ledger = await registry.stages.history('churn', { stage: 'staging' });
    const pointer = await registry.stages.getStage('churn', 'staging');
    const result = await runAndDecide('reject', 'precision dropped below what liveops accepts');
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('mlcycle.ApprovalRejected');
    const [newest] = await registry.versions.listVersions('churn');
    expect(newest?.status).toBe('rejected');
    expect(newest?.statusHistory.find((c) => c.to === 'rejected')).toMatchObject({
      actor: APPROVER,
      reason: `rejected for staging by ${APPROVER}: precision dropped below what liveops accepts`,
    });
    const [rejection, ...rest] = await registry.stages.history('churn', { stage: 'staging' });
    expect(rest).toEqual(ledger);
    expect(rejection).toMatchObject({
      action: 'reject',
      seq: pointer?.ledgerSeq,
      fromVersion: pointer?.version,
      toVersion: newest?.version,
      actor: APPROVER,
      reason: 'precision dropped below what liveops accepts',
      evidence: {
        requestId: expect.stringMatching(/^apr-/),
        approvals: [
          { approver: APPROVER, decision: 'reject', comment: 'precision dropped below what liveops accepts' },
        ],
      },
    });
    // The stage did not move, and "what served" ignores the refusal.
    expect(await registry.stages.getStage('churn', 'staging')).toEqual(pointer);
    expect((await registry.stages.servingAt('churn', 'staging', new Date()))?.toVersion).toBe(
      pointer?.version,
    );
    const request = await approvals.findForVersion('churn', newest?.version ?? '', 'staging');
    expect(request).toMatchObject({
      status: 'rejected',
      outcomeNote: `rejected by ${APPROVER}: precision dropped below what liveops accepts`,
    });
  });
});
