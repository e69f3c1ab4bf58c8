import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CleanupHistory } from '../../lambdas/adapters/registry/cleanup-history.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { rollbackTarget } from '../../lambdas/domain/registry/rollback-target.js';
import { floorPool, protectedVersions } from '../../lambdas/domain/retention/policy.js';
import { applyRetention } from '../../lambdas/services/registry/retention.js';
import { lineageFor, METRICS, MODEL, REQUESTOR } from '../handlers/fixtures.js';
import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../support/emulators.js';

/**
 * "No sequence of deploys, rollbacks and cleanups ever removes the serving version, a rollback
 * target, or drops below the floor", as a property over the registry on DynamoDB Local and the
 * run outputs on s3rver, with the real cleanup service. Each command moves a clock by some days,
 * so the age rule bites. Before every real cleanup a dry run with the same rules is taken; the
 * real run must archive exactly the versions, and reclaim exactly the bytes, the dry run said.
 */

const STAGES = ['staging', 'production'] as const;
type Command =
  | { kind: 'train'; days: number; size: number }
  | { kind: 'settle'; pick: number; to: 'rejected' | 'failed' }
  | { kind: 'deploy'; pick: number; stage: number; days: number }
  | { kind: 'rollback'; stage: number }
  | { kind: 'cleanup'; keepLast: number; maxAgeDays: number | undefined; floor: number; days: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('train' as const),
      days: fc.integer({ min: 0, max: 20 }),
      size: fc.integer({ min: 1, max: 2000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      pick: fc.nat(),
      to: fc.constantFrom('rejected' as const, 'failed' as const),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('deploy' as const),
      pick: fc.nat(),
      stage: fc.nat(1),
      days: fc.integer({ min: 0, max: 10 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rollback' as const), stage: fc.nat(1) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('cleanup' as const),
      keepLast: fc.integer({ min: 1, max: 4 }),
      maxAgeDays: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
      floor: fc.integer({ min: 1, max: 4 }),
      days: fc.integer({ min: 0, max: 30 }),
    }),
  },
);

describe('retention property (DynamoDB Local + s3rver)', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
  });
  afterAll(async () => {
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  });

  it('never archives what serves or a rollback target, never crosses the floor, and does what its dry run said', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 18 }), async (commands) => {
        const [table, bucket] = await Promise.all([dynamo.newTable(), s3.newBucket()]);
        let now = new Date('2026-06-01T00:00:00Z').getTime();
        const clock = () => new Date(now);
        const registry = new Registry(dynamo.doc, table, clock);
        const objects = new S3Objects(s3.local.client);
        const deps = { registry, objects, bucket, history: new CleanupHistory(dynamo.doc, table), clock };
        let runs = 0;
        const live = async () =>
          (await registry.versions.listVersions(MODEL)).filter((v) => v.status !== 'archived');
        const state = async () => {
          const [versions, pointers, ledger] = await Promise.all([
            registry.versions.listVersions(MODEL),
            registry.stages.listStages(MODEL),
            registry.stages.history(MODEL),
          ]);
          return { versions, pointers, ledger };
        };

        for (const c of commands) {
          if (c.kind === 'train') {
            now += c.days * 86_400_000;
            const runId = `r${runs++}`;
            await objects.put({ bucket, key: `runs/${MODEL}/${runId}/model.json` }, 'x'.repeat(c.size));
            await registry.versions.registerVersion({
              model: MODEL,
              bump: 'minor',
              metrics: METRICS,
              lineage: lineageFor(bucket, runId),
            });
          } else if (c.kind === 'settle') {
            const open = (await live()).filter((v) => v.status === 'validating');
            const v = open[c.pick % Math.max(1, open.length)];
            if (v) await registry.versions.transition(MODEL, v.version, c.to, 'settled', REQUESTOR);
          } else if (c.kind === 'deploy') {
            now += c.days * 86_400_000;
            const servable = (await live()).filter((v) => v.status === 'ready' || v.status === 'validating');
            const v = servable[c.pick % Math.max(1, servable.length)];
            const stage = STAGES[c.stage] ?? 'staging';
            const serving = await registry.stages.getStage(MODEL, stage);
            if (v && v.version !== serving?.version) {
              await registry.stages.promote({
                model: MODEL,
                stage,
                version: v.version,
                actor: REQUESTOR,
                reason: 'p',
                action: 'promote',
              });
            }
          } else if (c.kind === 'rollback') {
            const stage = STAGES[c.stage] ?? 'staging';
            const pointer = await registry.stages.getStage(MODEL, stage);
            let target: string | undefined;
            try {
              target = rollbackTarget(MODEL, stage, pointer, await registry.stages.history(MODEL, { stage }));
            } catch {
              target = undefined; // nothing to go back to
            }
            // A rollback target is never archived, so going back to it always works.
            if (target)
              await registry.stages.promote({
                model: MODEL,
                stage,
                version: target,
                actor: REQUESTOR,
                reason: 'r',
                action: 'rollback',
              });
          } else {
            now += c.days * 86_400_000;
            const rules = { keepLastVersions: c.keepLast, maxAgeDays: c.maxAgeDays, floor: c.floor };
            const before = await state();
            const guarded = protectedVersions(before.pointers, before.ledger);
            const poolBefore = floorPool(before.versions, before.pointers, before.ledger).length;
            const dry = await applyRetention(deps, { rules, dryRun: true, actor: 'p', trigger: 'manual' });
            const real = await applyRetention(deps, { rules, dryRun: false, actor: 'p', trigger: 'manual' });
            const after = await state();

            const archivedNow = after.versions
              .filter((v) => v.status === 'archived')
              .map((v) => v.version)
              .filter((v) => before.versions.find((b) => b.version === v)?.status !== 'archived')
              .sort();
            const dryArchived = (dry.models[0]?.archived ?? []).map((a) => a.version).sort();
            expect(archivedNow).toEqual(dryArchived);
            expect(real.reclaimedBytes).toBe(dry.reclaimedBytes);
            for (const v of archivedNow)
              expect(guarded.has(v), `${v} served or was a rollback target`).toBe(false);
            for (const p of after.pointers)
              expect(after.versions.find((v) => v.version === p.version)?.status).not.toBe('archived');
            const poolAfter = floorPool(after.versions, after.pointers, after.ledger).length;
            expect(poolAfter).toBeGreaterThanOrEqual(Math.min(c.floor, poolBefore));
            // Its run outputs went with it; the kept versions' stayed.
            for (const v of after.versions) {
              const key = `runs/${MODEL}/${v.lineage.runId}/model.json`;
              expect(Boolean(await objects.head({ bucket, key })), `${v.version} ${v.status}`).toBe(
                v.status !== 'archived',
              );
            }
            if (before.versions.length) {
              const [recorded] = await deps.history.list(MODEL, 1);
              expect(recorded?.archived.map((a) => a.version).sort()).toEqual(archivedNow);
            }
          }
        }
      }),
      { seed: 1616, numRuns: 20, endOnFailure: true },
    );
  }, 300_000);
});
