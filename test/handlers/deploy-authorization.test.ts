import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import type { ApprovalOutcome } from '../../lambdas/contracts/pipeline.js';
import {
  approvedState,
  evaluationOf,
  fixtureConfig,
  type HandlerWorld,
  handlerWorld,
  lineageFor,
  METRICS,
  MODEL,
  passedGate,
  pipelineState,
  putRun,
  runInfo,
  train,
  uploadDataset,
} from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;
type State = Record<string, unknown> & {
  execution: { arn: string; name: string };
  approval: ApprovalOutcome;
  promotionId: string;
  run: ReturnType<typeof runInfo>;
};

/**
 * Deploy moves a stage only on an approval that covers this very deployment: a request of this
 * execution, model, version and stage, approved by the deployed policy's current quorum — and
 * used once. Each forged or replayed state below is refused, and the stage, its manifest and
 * the ledger stay as they were.
 */
describe('deploy handler: what an approval authorises', () => {
  let w: HandlerWorld;
  let deploy: Handler;
  let loadCandidate: Handler;
  let approvals: ApprovalStore;
  /** The states that deployed 1.0.0 then 1.1.0 to production, each in its own execution. */
  const deployed: State[] = [];

  const arnOf = (name: string) => `arn:aws:states:us-east-1:000000000000:execution:mlcycle-lifecycle:${name}`;
  async function promotionState(version: string, execution: string): Promise<State> {
    const loaded = (await loadCandidate(
      pipelineState({
        stage: 'production',
        promote: version,
        execution: { arn: arnOf(execution), name: execution },
      }),
    )) as ReturnType<typeof pipelineState> & { registration: { version: string; parentVersion: null } };
    return { ...(await approvedState(w, loaded)), gate: passedGate() } as unknown as State;
  }
  const snapshot = async () => `${await w.scan()}\n${await w.s3Snapshot()}`;

  beforeAll(async () => {
    w = await handlerWorld('deploy');
    ({ handler: deploy } = (await import('../../lambdas/handlers/deploy.js')) as { handler: Handler });
    ({ handler: loadCandidate } = (await import('../../lambdas/handlers/load-candidate.js')) as {
      handler: Handler;
    });
    approvals = new ApprovalStore(w.dynamo.doc, w.table);
    await uploadDataset(w);
    const run = runInfo(w.bucket, 'r1');
    await putRun(w, run);
    const summary = await train(w, run);
    const evaluation = evaluationOf(run, summary);
    for (let i = 0; i < 3; i++) {
      await w.registry.versions.registerVersion({
        model: MODEL,
        bump: 'minor',
        metrics: METRICS,
        lineage: lineageFor(w.bucket, 'r1', {
          artifactUri: evaluation.artifact.uri,
          artifactSha256: evaluation.artifact.sha256,
        }),
      });
    }
    for (const version of ['1.0.0', '1.1.0']) {
      const state = await promotionState(version, `promote-${version.replace(/\./g, '-')}`);
      await deploy(state);
      deployed.push(state);
    }
  }, 120_000);
  afterAll(async () => {
    await w?.stop();
  });

  it('the world: production serves 1.1.0 after 1.0.0, each deployed on its own approval', async () => {
    expect(await w.registry.stages.getStage(MODEL, 'production')).toMatchObject({
      version: '1.1.0',
      ledgerSeq: 2,
    });
  });

  it('an approval deploys once: an earlier deployment’s state with a new promotion id, none, or as a new run is refused', async () => {
    const [first] = deployed;
    if (!first) throw new Error('no deployment');
    const { promotionId: _p, ...withoutId } = first;
    const asRun = {
      ...first,
      promote: '',
      promotionId: undefined,
      run: runInfo(w.bucket, `r-${randomUUID().slice(0, 6)}`),
    };
    const before = await snapshot();
    for (const replay of [{ ...first, promotionId: randomUUID() }, withoutId, asRun]) {
      await expect(deploy(replay)).rejects.toMatchObject({
        name: 'ForbiddenError',
        message: expect.stringMatching(
          new RegExp(`^not deployed: approval request ${first.approval.requestId} was used already`),
        ),
      });
    }
    expect(await snapshot()).toBe(before);
    expect(await w.registry.stages.getStage(MODEL, 'production')).toMatchObject({
      version: '1.1.0',
      ledgerSeq: 2,
    });
  });

  it('the same state redelivered is still recognised: nothing moves back', async () => {
    const [first] = deployed;
    const before = await snapshot();
    await expect(deploy(first)).resolves.toMatchObject({
      version: '1.0.0',
      ledgerSeq: 1,
      redelivered: true,
      supersededBy: { version: '1.1.0', ledgerSeq: 2 },
    });
    expect(await snapshot()).toBe(before);
  });

  it('no approval, another execution’s, one still pending, or one for another version deploys nothing', async () => {
    const [first, second] = deployed;
    if (!first || !second) throw new Error('no deployment');
    const state = await promotionState('1.2.0', 'promote-1-2-0');
    // A request of this execution, version and stage that nobody has decided yet.
    const pendingId = `apr-pending-${randomUUID().slice(0, 6)}`;
    const pendingRequest = await approvals.get(state.approval.requestId);
    if (!pendingRequest) throw new Error('no request');
    await approvals.create({
      ...pendingRequest,
      requestId: pendingId,
      status: 'pending',
      taskToken: `token-${pendingId}`,
    });
    const { approval: _a, ...none } = state;
    const before = await snapshot();
    for (const [forged, why] of [
      [none, /no approval request was completed for churn 1\.2\.0 → production in this execution/],
      [
        { ...state, approval: { ...state.approval, requestId: first.approval.requestId } },
        /belongs to another execution/,
      ],
      [{ ...state, approval: { ...state.approval, requestId: pendingId } }, /is pending, not approved/],
      [
        { ...first, promotionId: randomUUID(), registration: { version: '1.2.0', parentVersion: null } },
        /is for churn 1\.0\.0 → production, not churn 1\.2\.0 → production/,
      ],
      [
        { ...state, approval: { ...state.approval, requestId: 'apr-forged' } },
        /no approval request was completed/,
      ],
    ] as const) {
      await expect(deploy(forged)).rejects.toMatchObject({
        name: 'ForbiddenError',
        message: expect.stringMatching(why),
      });
    }
    expect(await snapshot()).toBe(before);
  });

  it('an approval given under a looser policy than the deployed one deploys nothing', async () => {
    const state = await promotionState('1.2.0', 'promote-1-2-0-again');
    w.deploy(
      fixtureConfig({
        environments: {
          staging: { approvers: ['a@studio.test', 'b@studio.test'], quorum: 1 },
          production: { approvers: ['a@studio.test', 'b@studio.test', 'c@studio.test'], quorum: 3 },
        },
      }),
    );
    try {
      const before = await snapshot();
      await expect(deploy(state)).rejects.toMatchObject({
        name: 'ForbiddenError',
        message: expect.stringContaining('production needs 3 approval(s) from its approvers; request'),
      });
      expect(await snapshot()).toBe(before);
    } finally {
      w.deploy(fixtureConfig());
    }
    // Under the policy it was approved by, it deploys.
    await expect(deploy(state)).resolves.toMatchObject({ version: '1.2.0', previousVersion: '1.1.0' });
  });
});
