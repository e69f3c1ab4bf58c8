import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import { parseS3Uri } from '../../lambdas/adapters/s3-objects.js';
import { manifestKey } from '../../lambdas/contracts/manifest.js';
import { recordDecision } from '../../lambdas/services/approvals/decide.js';
import { registerExternalVersion } from '../../lambdas/services/registry/register-external.js';
import { rollback } from '../../lambdas/services/registry/rollback.js';
import { LOCAL_REGION } from '../../local/emulators/local-aws.js';
import {
  approvedState,
  evaluationOf,
  type HandlerWorld,
  handlerWorld,
  lineageFor,
  METRICS,
  MODEL,
  passedGate,
  pipelineState,
  putRun,
  runInfo,
  sha256,
  train,
  uploadDataset,
} from '../handlers/fixtures.js';
import { RecordingSfn } from './approval/fixtures.js';

/**
 * "No sequence of commands by non-approvers changes what a stage serves", as a property over
 * the real adapters and handlers on DynamoDB Local and s3rver.
 *
 * The world, built through the real Deploy handler and decision service: production served
 * 1.0.0 then serves 1.1.0 (each approved by a@ and b@ in its own execution), staging serves
 * 1.3.0, 1.4.0 was rejected for production, and 1.2.0 waits for production approval with one of
 * the two approvals it needs (a@'s). Commands come from people who do not approve production:
 * the requestors, a stranger, an approver of staging only, and addresses that look like
 * approvers' but are not theirs once normalised (trimmed and lower-cased). They decide, roll
 * back (with and without --to), invoke Deploy with forged states (other requests' approvals,
 * replayed ones, none) and register versions. After every sequence both stages, their client
 * manifests and the ledger are as they were, the pending request is still pending with only
 * a@'s approval, and no callback went to Step Functions.
 */

const STAGING_ONLY = 's@studio.test';
const config = parseConfig(
  {
    models: {
      [MODEL]: {
        target: 'churned',
        exclude: ['player_id'],
        training: { hyperparameters: { epochs: 6, learningRate: 0.1, l2: 0.001, seed: 7 } },
      },
    },
    environments: {
      staging: { approvers: ['a@studio.test', STAGING_ONLY], quorum: 1 },
      production: { approvers: ['a@studio.test', 'b@studio.test', 'c@studio.test'], quorum: 2 },
    },
  },
  'property config',
);

/** Who acts: nobody here approves (or may roll back) production. */
const NON_APPROVERS = [
  'ml-lead@studio.test', // requestor of the seeded deployments
  'scientist@studio.test', // requestor of the pending request
  'mallory@evil.test',
  STAGING_ONLY,
  // Look-alikes of a@ and b@ that normalisation (trim, lower-case) does not turn into them.
  'a@studio.test.',
  'a+ops@studio.test',
  '\u0430@studio.test', // Cyrillic а
  'a@studio.test\u200b', // zero-width space
  'b@studio.tes',
  'b@studio-test',
  'b@studio.test@evil.test',
] as const;

type Handler = (event: unknown) => Promise<unknown>;
type Command =
  | { kind: 'decide'; request: number; actor: string; decision: 'approve' | 'reject'; via: 'link' | 'cli' }
  | { kind: 'rollback'; to: string | undefined; actor: string }
  | {
      kind: 'deploy';
      version: string;
      approval: number | null;
      execution: number;
      actor: string;
      promotionId: boolean;
      runShaped: boolean;
    }
  | { kind: 'replay'; seeded: number; actor: string; promotionId: boolean; runShaped: boolean }
  | { kind: 'register'; actor: string; elsewhere: boolean };

describe('governance property (DynamoDB Local + s3rver)', () => {
  let w: HandlerWorld;
  let deploy: Handler;
  let loadCandidate: Handler;
  const sfn = new RecordingSfn();
  /** The seeded deployments (production 1.0.0, production 1.1.0, staging 1.3.0). */
  const seeded: { requestId: string; executionArn: string; version: string; stage: string }[] = [];
  let pendingRequestId = '';
  let pendingExecution = '';
  let externalSha = '';
  let items: Map<string, Record<string, unknown>>;
  let manifests: Map<string, string>;

  const executionArn = (name: string) =>
    `arn:aws:states:${LOCAL_REGION}:000000000000:execution:mlcycle-lifecycle:${name}`;
  const itemId = (i: Record<string, unknown>) => `${String(i.PK)}|${String(i.SK)}`;

  async function scanAll(): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await w.dynamo.doc.send(
        new ScanCommand({ TableName: w.table, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      out.push(...((page.Items ?? []) as Record<string, unknown>[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
  async function manifestBytes(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const stage of ['staging', 'production']) {
      const key = manifestKey(MODEL, stage);
      out.set(stage, await w.objects.getText({ bucket: w.bucket, key }).catch(() => '(none)'));
    }
    return out;
  }

  /** Puts the table and the manifests back as seeded (what an earlier run may have added). */
  async function restore(): Promise<void> {
    const now = await scanAll();
    for (const item of now) {
      const want = items.get(itemId(item));
      if (!want) {
        await w.dynamo.doc.send(new DeleteCommand({ TableName: w.table, Key: { PK: item.PK, SK: item.SK } }));
      } else if (JSON.stringify(want) !== JSON.stringify(item)) {
        await w.dynamo.doc.send(new PutCommand({ TableName: w.table, Item: want }));
      }
    }
    const present = new Set(now.map(itemId));
    for (const [id, item] of items) {
      if (!present.has(id)) await w.dynamo.doc.send(new PutCommand({ TableName: w.table, Item: item }));
    }
    for (const [stage, body] of manifests) {
      if ((await manifestBytes()).get(stage) !== body) {
        await w.objects.put({ bucket: w.bucket, key: manifestKey(MODEL, stage) }, body, 'application/json');
      }
    }
    sfn.calls.length = 0;
  }

  /** LoadCandidate's state for a promotion in its own execution, as Gate passed it on. */
  async function promotionState(version: string, stage: string, execution: string, requestedBy: string) {
    const loaded = (await loadCandidate(
      pipelineState({
        stage,
        promote: version,
        requestedBy,
        execution: { arn: executionArn(execution), name: execution },
      }),
    )) as ReturnType<typeof pipelineState> & {
      registration: { version: string; parentVersion: string | null };
      promotionId: string;
      run: ReturnType<typeof runInfo>;
    };
    return { ...loaded, gate: passedGate() };
  }

  beforeAll(async () => {
    w = await handlerWorld('deploy', {}, config);
    ({ handler: deploy } = (await import('../../lambdas/handlers/deploy.js')) as { handler: Handler });
    ({ handler: loadCandidate } = (await import('../../lambdas/handlers/load-candidate.js')) as {
      handler: Handler;
    });
    await uploadDataset(w);
    const run = runInfo(w.bucket, 'r1');
    await putRun(w, run);
    const summary = await train(w, run);
    const evaluation = evaluationOf(run, summary);
    for (let i = 0; i < 5; i++) {
      await w.registry.versions.registerVersion({
        model: MODEL,
        bump: 'minor',
        metrics: METRICS,
        lineage: lineageFor(w.bucket, 'r1', {
          artifactUri: evaluation.artifact.uri,
          artifactSha256: evaluation.artifact.sha256,
          datasetSha256: summary.datasetSha256,
        }),
      });
    }
    // Deployed for real: approved by a@ and b@ (a@ for staging) through the decision service,
    // then the Deploy handler.
    for (const [version, stage] of [
      ['1.0.0', 'production'],
      ['1.1.0', 'production'],
      ['1.3.0', 'staging'],
    ] as const) {
      const execution = `seed-${stage}-${version.replace(/\./g, '-')}`;
      const state = await approvedState(
        w,
        await promotionState(version, stage, execution, 'ml-lead@studio.test'),
      );
      await deploy(state);
      seeded.push({
        requestId: state.approval.requestId,
        executionArn: executionArn(execution),
        version,
        stage,
      });
    }
    const approvals = new ApprovalStore(w.dynamo.doc, w.table);
    // 1.4.0 was rejected for production.
    await w.registry.stages.recordRejection({
      model: MODEL,
      stage: 'production',
      version: '1.4.0',
      requestId: 'apr-seeded-rejection',
      actor: 'c@studio.test',
      reason: 'latency regression',
    });
    // 1.2.0 waits for production: asked by the scientist, approved so far by a@ (1 of 2).
    pendingExecution = executionArn('pending-production-1-2-0');
    pendingRequestId = 'apr-pending-1-2-0';
    await approvals.create({
      requestId: pendingRequestId,
      model: MODEL,
      version: '1.2.0',
      stage: 'production',
      runId: 'r1',
      requestedBy: 'scientist@studio.test',
      reason: 'better recall',
      approvers: ['a@studio.test', 'b@studio.test', 'c@studio.test'],
      quorum: 2,
      status: 'pending',
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 24 * 3600_000).toISOString(),
      reminderSecondsBeforeExpiry: 0,
      taskToken: 'token-pending',
      executionArn: pendingExecution,
      gate: passedGate('1.1.0'),
      metrics: METRICS,
      serving: null,
    });
    await recordDecision(
      { store: approvals, registry: w.registry, sfn },
      {
        requestId: pendingRequestId,
        approver: 'a@studio.test',
        decision: 'approve',
        comment: 'ok',
        via: 'link',
      },
    );
    // An artifact someone trained elsewhere, in the model's run prefix.
    const external = await w.objects.getBytes(parseS3Uri(evaluation.artifact.uri));
    externalSha = sha256(external);
    await w.objects.put({ bucket: w.bucket, key: `runs/${MODEL}/external/model.json` }, external);

    items = new Map((await scanAll()).map((i) => [itemId(i), i]));
    manifests = await manifestBytes();
  }, 120_000);
  afterAll(async () => {
    await w?.stop();
  });

  it('the world is as described', async () => {
    expect((await w.registry.stages.getStage(MODEL, 'production'))?.version).toBe('1.1.0');
    expect((await w.registry.stages.getStage(MODEL, 'staging'))?.version).toBe('1.3.0');
    expect((await new ApprovalStore(w.dynamo.doc, w.table).get(pendingRequestId))?.status).toBe('pending');
    expect(JSON.parse(manifests.get('production') ?? '{}')).toMatchObject({ version: '1.1.0' });
  });

  const actor = fc.constantFrom(...NON_APPROVERS);
  const version = fc.constantFrom('1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '9.9.9');
  const command: fc.Arbitrary<Command> = fc.oneof(
    fc.record({
      kind: fc.constant('decide' as const),
      // 0-2: the seeded (decided) requests, 3: the pending one, 4: none.
      request: fc.integer({ min: 0, max: 4 }),
      actor,
      decision: fc.constantFrom('approve' as const, 'reject' as const),
      via: fc.constantFrom('link' as const, 'cli' as const),
    }),
    fc.record({ kind: fc.constant('rollback' as const), to: fc.option(version, { nil: undefined }), actor }),
    fc.record({
      kind: fc.constant('deploy' as const),
      version,
      // 0-2: a seeded request's approval, 3: the pending request's, 4: a forged id; null: none.
      approval: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
      // 0-2: a seeded execution, 3: the pending one's, 4: one of the attacker's own.
      execution: fc.integer({ min: 0, max: 4 }),
      actor,
      promotionId: fc.boolean(),
      runShaped: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('replay' as const),
      seeded: fc.integer({ min: 0, max: 2 }),
      actor,
      promotionId: fc.boolean(),
      runShaped: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('register' as const), actor, elsewhere: fc.boolean() }),
  );

  const requestIdAt = (i: number) =>
    i < seeded.length ? (seeded[i]?.requestId ?? '') : i === 3 ? pendingRequestId : 'apr-forged-000000';
  const executionAt = (i: number) =>
    i < seeded.length
      ? (seeded[i]?.executionArn ?? '')
      : i === 3
        ? pendingExecution
        : executionArn('attacker');

  /** A Deploy state for `version` → production as the attacker shapes it. */
  async function forgedState(
    v: string,
    execution: string,
    approval: string | null,
    requestedBy: string,
    options: { promotionId: boolean; runShaped: boolean; stage?: string },
  ) {
    const run = runInfo(w.bucket, options.runShaped ? `forged-${randomUUID().slice(0, 8)}` : 'r1');
    return {
      ...pipelineState({
        stage: options.stage ?? 'production',
        promote: options.runShaped ? '' : v,
        requestedBy,
        execution: { arn: execution, name: execution.split(':').pop() ?? 'x' },
      }),
      run,
      train: { jobId: 'job', status: 'SUCCEEDED' },
      evaluation: {
        metrics: METRICS,
        reportedMetrics: {},
        holdoutRows: 240,
        artifact: { uri: `${run.outputUri}model.json`, sha256: 'b'.repeat(64) },
        modelCardUri: `${run.outputUri}model-card.json`,
        evaluationUri: `${run.outputUri}evaluation.json`,
      },
      registration: { version: v, parentVersion: null },
      gate: passedGate('1.1.0'),
      ...(options.promotionId ? { promotionId: randomUUID() } : {}),
      ...(approval
        ? {
            approval: {
              requestId: approval,
              approvedBy: ['a@studio.test', 'b@studio.test'].map((approver) => ({
                approver,
                comment: 'ok',
                decidedAt: new Date().toISOString(),
              })),
              completedAt: new Date().toISOString(),
            },
          }
        : {}),
    };
  }

  async function run(cmd: Command): Promise<void> {
    const approvals = new ApprovalStore(w.dynamo.doc, w.table);
    switch (cmd.kind) {
      case 'decide':
        await recordDecision(
          { store: approvals, registry: w.registry, sfn },
          {
            requestId: requestIdAt(cmd.request),
            approver: cmd.actor,
            decision: cmd.decision,
            comment: 'as I see fit',
            via: cmd.via,
          },
        );
        return;
      case 'rollback':
        await rollback(
          {
            registry: w.registry,
            objects: w.objects,
            bucket: w.bucket,
            config,
            clientBaseUrl: 'https://cdn.test/',
          },
          {
            model: MODEL,
            stage: 'production',
            ...(cmd.to ? { to: cmd.to } : {}),
            reason: 'because',
            actor: cmd.actor,
          },
        );
        return;
      case 'deploy':
        await deploy(
          await forgedState(
            cmd.version,
            executionAt(cmd.execution),
            cmd.approval === null ? null : requestIdAt(cmd.approval),
            cmd.actor,
            cmd,
          ),
        );
        return;
      case 'replay': {
        // The state of a seeded deployment again, in its own execution with its own approval:
        // only the promotion id (or run) is new.
        const s = seeded[cmd.seeded];
        if (!s) return;
        await deploy(
          await forgedState(s.version, s.executionArn, s.requestId, cmd.actor, { ...cmd, stage: s.stage }),
        );
        return;
      }
      case 'register':
        await registerExternalVersion(
          { config, bucket: w.bucket, objects: w.objects, registry: w.registry },
          {
            model: MODEL,
            artifact: cmd.elsewhere
              ? `s3://${w.bucket}/scratch/model.json`
              : `s3://${w.bucket}/runs/${MODEL}/external/model.json`,
            sha256: externalSha,
            metrics: { auc: 0.99, f1: 0.99 },
          },
          cmd.actor,
        );
        return;
    }
  }

  it('no sequence of commands by non-approvers changes what a stage serves', async () => {
    const approvals = new ApprovalStore(w.dynamo.doc, w.table);
    const seededLedger = await w.registry.stages.history(MODEL);
    const seededDecisions = await approvals.decisions(pendingRequestId);
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 6 }), async (commands) => {
        await restore();
        for (const cmd of commands) {
          // Refusals are the expected answer; what matters is what they leave behind.
          await run(cmd).catch(() => undefined);
        }
        expect((await w.registry.stages.getStage(MODEL, 'production'))?.version).toBe('1.1.0');
        expect((await w.registry.stages.getStage(MODEL, 'staging'))?.version).toBe('1.3.0');
        expect(await manifestBytes()).toEqual(manifests);
        expect(await w.registry.stages.history(MODEL)).toEqual(seededLedger);
        expect((await approvals.get(pendingRequestId))?.status).toBe('pending');
        expect(await approvals.decisions(pendingRequestId)).toEqual(seededDecisions);
        expect(sfn.calls).toEqual([]);
      }),
      { numRuns: 30 },
    );
  }, 300_000);
});
