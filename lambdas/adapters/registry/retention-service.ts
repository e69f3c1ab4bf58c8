import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { type RetentionDecision, retentionPlan } from '../../domain/retention/policy.js';
import type { S3Objects } from '../s3-objects.js';
import type { RegistryStore } from './registry-store.js';

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
  deps: { store: RegistryStore; objects: S3Objects; s3: S3Client; bucket: string },
  options: { keepLastVersions: number; dryRun: boolean; actor: string },
): Promise<CleanupReport> {
  const out: CleanupReport['models'][number][] = [];
  for (const { model } of await deps.store.listModels()) {
    const [versions, pointers, ledger] = await Promise.all([
      deps.store.listVersions(model),
      deps.store.listStages(model),
      deps.store.history(model),
    ]);
    const plan = retentionPlan(versions, pointers, ledger, options.keepLastVersions);
    const archived = plan.filter((d) => d.action === 'archive');
    let reclaimedBytes = 0;
    let deletedObjects = 0;
    for (const d of archived) {
      const objects = d.runId ? await deps.objects.list(deps.bucket, `runs/${model}/${d.runId}/`) : [];
      reclaimedBytes += objects.reduce((s, o) => s + o.size, 0);
      deletedObjects += objects.length;
      if (options.dryRun) continue;
      await deps.store.transition(model, d.version, 'archived', 'retention policy', options.actor);
      for (let i = 0; i < objects.length; i += 1000) {
        await deps.s3.send(
          new DeleteObjectsCommand({
            Bucket: deps.bucket,
            Delete: { Objects: objects.slice(i, i + 1000).map((o) => ({ Key: o.key })), Quiet: true },
          }),
        );
      }
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
