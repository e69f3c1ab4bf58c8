import type { Registry } from '../../adapters/registry/registry.js';
import type { ClientDownload, ManifestRollout } from '../../contracts/manifest.js';
import { type RolloutRecord, variantsInForce } from '../../contracts/rollout-record.js';
import { NotFoundError } from '../../domain/errors.js';
import { buildRolloutBlock } from '../../domain/registry/manifest.js';
import {
  type ClientPublication,
  type ClientPublicationDeps,
  publishClientManifest,
  serveArtifact,
} from '../deploy/client-publication.js';

export interface StagePublishDeps extends ClientPublicationDeps {
  readonly registry: Pick<Registry, 'stages' | 'versions' | 'rollouts'>;
}

/**
 * The manifest's rollout block for a rollout: each variant's version copied where clients
 * download it (verified against the registry's sha256, as a promotion does).
 */
export async function rolloutBlock(
  deps: StagePublishDeps,
  rollout: RolloutRecord,
  known: ReadonlyMap<string, ClientDownload> = new Map(),
): Promise<ManifestRollout> {
  const downloads = new Map(known);
  for (const v of variantsInForce(rollout)) {
    if (downloads.has(v.version)) continue;
    const record = await deps.registry.versions.requireVersion(rollout.model, v.version);
    downloads.set(v.version, await serveArtifact(deps, record));
  }
  return buildRolloutBlock(rollout.rolloutId, variantsInForce(rollout), downloads);
}

/**
 * Republishes a stage's client manifest from the registry: what serves it (the top-level version
 * and download, for every client) and, while a rollout on it is active, the rollout block; then
 * invalidates the CDN's copy under `reference` (one per change).
 */
export async function publishStage(
  deps: StagePublishDeps,
  model: string,
  stage: string,
  reference: string,
): Promise<ClientPublication> {
  const { registry } = deps;
  const pointer = await registry.stages.getStage(model, stage);
  const entry = pointer ? await registry.stages.getLedgerEntry(model, stage, pointer.ledgerSeq) : undefined;
  if (!pointer || !entry)
    throw new NotFoundError(`${model} ${stage} serves nothing: there is no manifest to publish`);
  const version = await registry.versions.requireVersion(model, pointer.version);
  const download = await serveArtifact(deps, version);
  const active = await registry.rollouts.active(model, stage);
  const rollout =
    active && active.controlVersion === pointer.version
      ? await rolloutBlock(deps, active, new Map([[version.version, download]]))
      : undefined;
  return publishClientManifest(deps, entry, version, download, {
    ...(rollout ? { rollout } : {}),
    reference,
  });
}

/** The CDN caller reference of a rollout change (unique per change: the record's revision). */
export const rolloutReference = (r: Pick<RolloutRecord, 'model' | 'stage' | 'rolloutId' | 'revision'>) =>
  `${r.model}/${r.stage}/${r.rolloutId}@${r.revision}`;
