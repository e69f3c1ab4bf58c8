import type { Registry } from '../../adapters/registry/registry.js';
import type { S3Objects } from '../../adapters/s3-objects.js';
import { runPrefix } from '../../contracts/s3-layout.js';
import { type RetentionDecision, retentionPlan } from '../../domain/retention/policy.js';

export interface RetentionDeps {
  readonly registry: Registry;
  readonly objects: S3Objects;
  readonly bucket: string;
}

export interface CleanupReport {
  readonly dryRun: boolean;
  readonly models: {
    model: string;
    kept: RetentionDecision[];
    archived: RetentionDecision[];
    reclaimedBytes: number;
    deletedObjects: number;
  }[];
  readonly reclaimedBytes: number;
}

/**
 * Applies the retention policy: archives what it allows and deletes those versions' run
 * artifacts (the bucket is versioned, so lifecycle expiry reclaims the noncurrent bytes later).
 * With dryRun nothing is changed and the report says what would be.
 */
export async function applyRetention(
  deps: RetentionDeps,
  options: { keepLastVersions: number; dryRun: boolean; actor: string },
): Promise<CleanupReport> {
  const out: CleanupReport['models'][number][] = [];
  for (const { model } of await deps.registry.catalog.listModels()) {
    const [versions, pointers, ledger] = await Promise.all([
      deps.registry.versions.listVersions(model),
      deps.registry.stages.listStages(model),
      deps.registry.stages.history(model),
    ]);
    const plan = retentionPlan(versions, pointers, ledger, options.keepLastVersions);
    const archived = plan.filter((d) => d.action === 'archive');
    let reclaimedBytes = 0;
    let deletedObjects = 0;
    for (const d of archived) {
      const objects = d.runId ? await deps.objects.list(deps.bucket, runPrefix(model, d.runId)) : [];
      reclaimedBytes += objects.reduce((s, o) => s + o.size, 0);
      deletedObjects += objects.length;
      if (options.dryRun) continue;
      await deps.registry.versions.transition(
        model,
        d.version,
        'archived',
        'retention policy',
        options.actor,
      );
      await deps.objects.deleteAll(
        deps.bucket,
        objects.map((o) => o.key),
      );
    }
    out.push({
      model,
      kept: plan.filter((d) => d.action === 'keep'),
      archived,
      reclaimedBytes,
      deletedObjects,
    });
  }
  return {
    dryRun: options.dryRun,
    models: out,
    reclaimedBytes: out.reduce((s, m) => s + m.reclaimedBytes, 0),
  };
}
