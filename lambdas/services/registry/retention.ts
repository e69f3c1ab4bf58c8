import { randomUUID } from 'node:crypto';
import type { CleanupHistory } from '../../adapters/registry/cleanup-history.js';
import type { Registry } from '../../adapters/registry/registry.js';
import type { S3Objects } from '../../adapters/s3-objects.js';
import type { ArchivedVersion, CleanupRecord, CleanupTrigger } from '../../contracts/cleanup.js';
import { variantsInForce } from '../../contracts/rollout-record.js';
import { runPrefix } from '../../contracts/s3-layout.js';
import { type RetentionDecision, type RetentionRules, retentionPlan } from '../../domain/retention/policy.js';

export interface RetentionDeps {
  readonly registry: Registry;
  readonly objects: S3Objects;
  readonly bucket: string;
  readonly history: CleanupHistory;
  readonly clock?: () => Date;
}

export interface CleanupOptions {
  readonly rules: RetentionRules;
  readonly dryRun: boolean;
  readonly actor: string;
  readonly trigger: CleanupTrigger;
  /** Only these models (a deploy's); every registered model when absent. */
  readonly models?: readonly string[];
}

export interface ModelCleanup {
  readonly model: string;
  readonly kept: RetentionDecision[];
  readonly archived: (RetentionDecision & Pick<ArchivedVersion, 'bytes' | 'objects'>)[];
  readonly reclaimedBytes: number;
  readonly deletedObjects: number;
  /** Set when the model was left alone: another cleanup of it held the lease. */
  readonly skipped?: string;
}

export interface CleanupReport {
  readonly dryRun: boolean;
  readonly trigger: CleanupTrigger;
  readonly at: string;
  readonly models: ModelCleanup[];
  readonly reclaimedBytes: number;
}

/** How long a cleanup of one model may hold its lease (the cleanup function's timeout). */
const LEASE_SECONDS = 300;

/**
 * Applies the retention policy (domain/retention/policy.ts) model by model: archives what it
 * allows and deletes those versions' run outputs (the bucket is versioned, so lifecycle expiry
 * reclaims the noncurrent bytes later), then writes the model's cleanup record. A dry run reads
 * the same registry, computes the same plan and lists the same objects, and changes nothing.
 */
export async function applyRetention(deps: RetentionDeps, options: CleanupOptions): Promise<CleanupReport> {
  const now = (deps.clock ?? (() => new Date()))();
  const registered = (await deps.registry.catalog.listModels()).map((m) => m.model);
  const models = options.models ? registered.filter((m) => options.models?.includes(m)) : registered;
  const out: ModelCleanup[] = [];
  for (const model of models) {
    if (options.dryRun) {
      out.push(await cleanModel(deps, options, model, now));
      continue;
    }
    const holder = randomUUID();
    if (!(await deps.history.acquire(model, holder, now, LEASE_SECONDS))) {
      const skipped = 'another cleanup of this model is running; it applies the same policy';
      out.push({ model, kept: [], archived: [], reclaimedBytes: 0, deletedObjects: 0, skipped });
      continue;
    }
    try {
      out.push(await cleanModel(deps, options, model, now));
    } finally {
      await deps.history.release(model, holder);
    }
  }
  return {
    dryRun: options.dryRun,
    trigger: options.trigger,
    at: now.toISOString(),
    models: out,
    reclaimedBytes: out.reduce((s, m) => s + m.reclaimedBytes, 0),
  };
}

async function cleanModel(
  deps: RetentionDeps,
  options: CleanupOptions,
  model: string,
  now: Date,
): Promise<ModelCleanup> {
  const [versions, pointers, ledger, rollouts] = await Promise.all([
    deps.registry.versions.listVersions(model),
    deps.registry.stages.listStages(model),
    deps.registry.stages.history(model),
    deps.registry.rollouts.activeForModel(model),
  ]);
  // A rollout's canary serves players while the stage pointer still names the control.
  const inRollouts = rollouts.flatMap((r) =>
    variantsInForce(r).map((v) => ({
      version: v.version,
      why: `serving ${r.stage} in rollout ${r.rolloutId}`,
    })),
  );
  const plan = retentionPlan(versions, pointers, ledger, options.rules, now, inRollouts);
  const kept = plan.filter((d) => d.action === 'keep');
  const archived: ModelCleanup['archived'] = [];
  try {
    for (const d of plan.filter((x) => x.action === 'archive')) {
      const objects = d.runId ? await deps.objects.list(deps.bucket, runPrefix(model, d.runId)) : [];
      const done = { ...d, bytes: objects.reduce((s, o) => s + o.size, 0), objects: objects.length };
      if (!options.dryRun) {
        const why = `retention policy (${options.trigger}): ${d.reasons.join('; ')}`;
        await deps.registry.versions.transition(model, d.version, 'archived', why, options.actor);
        await deps.objects.deleteAll(
          deps.bucket,
          objects.map((o) => o.key),
        );
      }
      archived.push(done);
    }
  } finally {
    // What a real run did is recorded even when a later version failed (then the error goes on).
    if (!options.dryRun) await deps.history.put(record(model, options, now, kept.length, archived));
  }
  return {
    model,
    kept,
    archived,
    reclaimedBytes: archived.reduce((s, a) => s + a.bytes, 0),
    deletedObjects: archived.reduce((s, a) => s + a.objects, 0),
  };
}

function record(
  model: string,
  options: CleanupOptions,
  now: Date,
  kept: number,
  archived: ModelCleanup['archived'],
): CleanupRecord {
  const { keepLastVersions, maxAgeDays, floor } = options.rules;
  return {
    model,
    id: randomUUID(),
    at: now.toISOString(),
    trigger: options.trigger,
    actor: options.actor,
    policy: { keepLastVersions, floor, ...(maxAgeDays !== undefined ? { maxAgeDays } : {}) },
    archived: archived.map(({ version, reasons, bytes, objects }) => ({ version, reasons, bytes, objects })),
    kept,
    reclaimedBytes: archived.reduce((s, a) => s + a.bytes, 0),
    deletedObjects: archived.reduce((s, a) => s + a.objects, 0),
  };
}

/** The rules of the deployed config's archival section. */
export const retentionRules = (archival: {
  readonly keepLastVersions: number;
  readonly maxAgeDays?: number | undefined;
  readonly floor: number;
}): RetentionRules => ({
  keepLastVersions: archival.keepLastVersions,
  maxAgeDays: archival.maxAgeDays,
  floor: archival.floor,
});
