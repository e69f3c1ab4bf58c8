import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { archivalSchema } from '../../../lambdas/contracts/config-operations.js';
import type { VersionStatus } from '../../../lambdas/domain/registry/status.js';
import type { LedgerEntry, StagePointer, VersionRecord } from '../../../lambdas/domain/registry/types.js';
import { floorPool, retentionPlan } from '../../../lambdas/domain/retention/policy.js';

const NOW = new Date('2026-12-01T00:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();

const version = (v: string, ageDays: number, status: VersionStatus = 'ready'): VersionRecord => ({
  model: 'churn',
  version: v,
  status,
  metrics: {},
  lineage: {
    parentVersion: null,
    datasetUri: 's3://b/datasets/churn/d.csv',
    datasetSha256: 'x',
    codeVersion: 'c',
    runId: `run-${v}`,
    hyperparameters: {},
    framework: 'sklearn',
    artifactUri: `s3://b/runs/churn/run-${v}/model.json`,
    artifactSha256: 'y',
    author: 'a@studio.test',
  },
  createdAt: daysAgo(ageDays),
  statusHistory: [],
});

const promote = (seq: number, from: string | null, to: string): LedgerEntry => ({
  model: 'churn',
  stage: 'production',
  seq,
  action: 'promote',
  fromVersion: from,
  toVersion: to,
  actor: 'a@studio.test',
  reason: 'r',
  at: daysAgo(100 - seq),
  evidence: {},
});
const pointer = (v: string, seq: number): StagePointer => ({
  model: 'churn',
  stage: 'production',
  version: v,
  ledgerSeq: seq,
  since: daysAgo(100 - seq),
});

const actions = (plan: ReturnType<typeof retentionPlan>) =>
  Object.fromEntries(plan.map((d) => [d.version, d.action]));
const reasons = (plan: ReturnType<typeof retentionPlan>, v: string) =>
  plan.find((d) => d.version === v)?.reasons;

describe('retentionPlan: age and count together, with a floor', () => {
  // Ten versions, one every 10 days (1.0.0 is 95 days old, 1.9.0 five); 1.7.0 serves
  // production after 1.6.0, so 1.6.0 is its rollback target.
  const versions = Array.from({ length: 10 }, (_, i) => version(`1.${i}.0`, 95 - i * 10));
  const ledger = [promote(2, '1.6.0', '1.7.0'), promote(1, null, '1.6.0')];
  const pointers = [pointer('1.7.0', 2)];

  it('never archives a version a rollout serves to players (the pointer still names the control)', () => {
    const rules = { keepLastVersions: 1, floor: 1 };
    const canary = [{ version: '1.2.0', why: 'serving production in rollout churn.production.1' }];
    const plan = retentionPlan(versions, pointers, ledger, rules, NOW, canary);
    expect(actions(plan)['1.2.0']).toBe('keep');
    expect(reasons(plan, '1.2.0')).toEqual(['serving production in rollout churn.production.1']);
    // …and it stays outside the floor's pool, like the versions the pointers name.
    expect(floorPool(versions, pointers, ledger, canary).map((v) => v.version)).not.toContain('1.2.0');
    expect(actions(retentionPlan(versions, pointers, ledger, rules, NOW))['1.2.0']).toBe('archive');
  });

  it('archives what is older than maxAgeDays OR beyond the newest keepLast, with the reason', () => {
    const plan = retentionPlan(
      versions,
      pointers,
      ledger,
      { keepLastVersions: 8, maxAgeDays: 60, floor: 1 },
      NOW,
    );
    expect(actions(plan)).toEqual({
      '1.9.0': 'keep',
      '1.8.0': 'keep',
      '1.7.0': 'keep',
      '1.6.0': 'keep',
      '1.5.0': 'keep', // 45 days old, among the newest 8
      '1.4.0': 'keep', // 55 days
      '1.3.0': 'archive', // 65 days: the age rule, though among the newest 8
      '1.2.0': 'archive', // 75 days and among the newest 8
      '1.1.0': 'archive', // both rules
      '1.0.0': 'archive',
    });
    expect(reasons(plan, '1.3.0')).toEqual([`older than 60 days (created ${daysAgo(65).slice(0, 10)})`]);
    expect(reasons(plan, '1.1.0')).toEqual([
      `older than 60 days (created ${daysAgo(85).slice(0, 10)})`,
      'beyond the newest 8',
    ]);
    expect(reasons(plan, '1.7.0')).toEqual(['serving production']);
    expect(reasons(plan, '1.6.0')).toEqual(['rollback target of production']);
    expect(reasons(plan, '1.9.0')).toEqual(['among the newest 8', 'younger than 60 days']);
  });

  it('the count rule alone when maxAgeDays is unset', () => {
    const plan = retentionPlan(versions, pointers, ledger, { keepLastVersions: 3, floor: 1 }, NOW);
    expect(plan.filter((d) => d.action === 'archive').map((d) => d.version)).toEqual([
      '1.5.0',
      '1.4.0',
      '1.3.0',
      '1.2.0',
      '1.1.0',
      '1.0.0',
    ]);
    expect(reasons(plan, '1.5.0')).toEqual(['beyond the newest 3']);
  });

  it('never crosses the floor: the newest due versions are held back, the oldest go', () => {
    // Pool: 8 versions that neither serve nor are a rollback target. Floor 5 ⇒ at most 3 go.
    const plan = retentionPlan(versions, pointers, ledger, { keepLastVersions: 1, floor: 5 }, NOW);
    expect(plan.filter((d) => d.action === 'archive').map((d) => d.version)).toEqual([
      '1.2.0',
      '1.1.0',
      '1.0.0',
    ]);
    expect(reasons(plan, '1.3.0')).toEqual(['kept: floor of 5', 'would be beyond the newest 1']);
    expect(reasons(plan, '1.7.0')).toEqual(['serving production']);
  });

  it('under review and archived versions: review is kept and counted in the pool, archived left out', () => {
    const vs = [
      version('2.0.0', 1, 'validating'),
      version('1.2.0', 300),
      version('1.1.0', 300, 'failed'),
      version('1.0.0', 300, 'archived'),
    ];
    const plan = retentionPlan(vs, [], [], { keepLastVersions: 1, maxAgeDays: 30, floor: 1 }, NOW);
    expect(actions(plan)).toEqual({ '2.0.0': 'keep', '1.2.0': 'archive', '1.1.0': 'archive' });
    expect(reasons(plan, '2.0.0')).toEqual(['under review']);
  });

  it('floor: defaults to 3, refuses 0, and maxAgeDays must be a positive whole number', () => {
    expect(archivalSchema.parse({})).toMatchObject({ floor: 3, keepLastVersions: 5 });
    expect(archivalSchema.parse({}).maxAgeDays).toBeUndefined();
    expect(archivalSchema.safeParse({ floor: 0 }).success).toBe(false);
    expect(archivalSchema.safeParse({ maxAgeDays: 0 }).success).toBe(false);
    expect(archivalSchema.safeParse({ maxAgeDays: 1.5 }).success).toBe(false);
  });

  it('property: never archives what serves, a rollback target or under review; never below the floor', () => {
    const statuses: VersionStatus[] = ['ready', 'rejected', 'failed', 'deprecated', 'validating', 'archived'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ age: fc.integer({ min: 0, max: 400 }), status: fc.constantFrom(...statuses) }), {
          minLength: 1,
          maxLength: 14,
        }),
        fc.array(fc.nat(13), { maxLength: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
        fc.integer({ min: 1, max: 5 }),
        (specs, deploys, keepLast, maxAgeDays, floor) => {
          const vs = specs.map((s, i) => version(`1.${i}.0`, s.age, s.status));
          // A production history: each deploy of a version that exists and may serve.
          const ledger: LedgerEntry[] = [];
          let serving: string | null = null;
          for (const d of deploys) {
            const v = vs[d % vs.length];
            if (!v || v.status === 'archived' || v.version === serving) continue;
            ledger.unshift(promote(ledger.length + 1, serving, v.version));
            serving = v.version;
          }
          const pointers = serving ? [pointer(serving, ledger.length)] : [];
          const rules = { keepLastVersions: keepLast, maxAgeDays, floor };
          const plan = retentionPlan(vs, pointers, ledger, rules, NOW);
          const archived = new Set(plan.filter((d) => d.action === 'archive').map((d) => d.version));
          if (serving) expect(archived.has(serving)).toBe(false);
          const target = ledger.find((e) => e.toVersion !== serving)?.toVersion;
          if (target) expect(archived.has(target)).toBe(false);
          for (const v of vs) if (v.status === 'validating') expect(archived.has(v.version)).toBe(false);
          const before = floorPool(vs, pointers, ledger).length;
          const after = before - [...archived].length;
          expect(after).toBeGreaterThanOrEqual(Math.min(floor, before));
        },
      ),
      { seed: 16, numRuns: 400 },
    );
  });
});
