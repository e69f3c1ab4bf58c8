import type { ClientManifest } from '../../contracts/manifest.js';
import { buildClientManifest } from '../../domain/registry/manifest.js';
import { rollbackTarget } from '../../domain/registry/rollback-target.js';
import type { LedgerEntry } from '../../domain/registry/types.js';
import type { S3Objects } from '../s3-objects.js';
import { verifyArtifact } from './artifact-check.js';
import { publishManifest } from './manifest.js';
import type { RegistryStore } from './registry-store.js';

/**
 * Rolls a stage back to the previous ledger entry's version (or a named one): validates the
 * target's artifact first — nothing is written if it is missing or altered — then moves the
 * pointer with a `rollback` ledger entry and republishes the client manifest.
 */
export async function rollback(
  deps: { store: RegistryStore; objects: S3Objects; bucket: string },
  input: { model: string; stage: string; to?: string; reason: string; actor: string },
): Promise<{ entry: LedgerEntry; manifest: ClientManifest }> {
  const { store, objects, bucket } = deps;
  const pointer = await store.getStage(input.model, input.stage);
  const ledger = await store.history(input.model, { stage: input.stage });
  const target = rollbackTarget(input.model, input.stage, pointer, ledger, input.to);
  const version = await store.requireVersion(input.model, target);
  const checked = await verifyArtifact(objects, version.lineage.artifactUri, version.lineage.artifactSha256);
  const entry = await store.promote({
    model: input.model,
    stage: input.stage,
    version: target,
    actor: input.actor,
    reason: input.reason,
    action: 'rollback',
    evidence: { validation: { sha256: checked.sha256, size: checked.size } },
  });
  const manifest = buildClientManifest(entry, version, checked.sha256);
  await publishManifest(objects, bucket, manifest);
  return { entry, manifest };
}
