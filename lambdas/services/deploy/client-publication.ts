import type { CdnInvalidator } from '../../adapters/cdn.js';
import { publishManifest } from '../../adapters/registry/manifest.js';
import { publishServedArtifact } from '../../adapters/registry/served-artifact.js';
import type { S3Objects } from '../../adapters/s3-objects.js';
import type { ClientDownload, ClientManifest, ManifestRollout } from '../../contracts/manifest.js';
import { manifestPath } from '../../contracts/routes.js';
import { buildClientManifest } from '../../domain/registry/manifest.js';
import type { LedgerEntry, VersionRecord } from '../../domain/registry/types.js';

/** Where clients get what a stage serves: the bucket's downloads/ and deployments/, and the CDN. */
export interface ClientPublicationDeps {
  readonly bucket: string;
  readonly objects: S3Objects;
  /** The deployed client base URL (the CDN's on AWS, the local API's locally); never a caller's. */
  readonly clientBaseUrl: string;
  /** The CDN whose cached manifest a change invalidates; none on the embedded default (no cache). */
  readonly cdn?: CdnInvalidator;
}

/** What a published change told clients, and whether the CDN was told the old manifest is stale. */
export interface ClientPublication {
  readonly manifest: ClientManifest;
  readonly manifestKey: string;
  /**
   * The CDN invalidation: its id, or why it failed (edges then serve the previous manifest until
   * their s-maxage, 60 s, runs out), or null without a CDN.
   */
  readonly invalidation: { id: string } | { error: string } | null;
}

/**
 * Step one, before the stage moves: the version's artifact copied where clients download it and
 * its copy's sha256 verified against the registry's. A failure here leaves the stage, the ledger
 * and the manifest as they were.
 */
export function serveArtifact(deps: ClientPublicationDeps, version: VersionRecord): Promise<ClientDownload> {
  return publishServedArtifact(deps.objects, deps.bucket, {
    model: version.model,
    artifactUri: version.lineage.artifactUri,
    sha256: version.lineage.artifactSha256,
    clientBaseUrl: deps.clientBaseUrl,
  });
}

/**
 * Step two, once the stage moved: the manifest pointing at the verified copy, then the CDN's
 * cached manifest invalidated (one invalidation per ledger entry: its caller reference). During
 * a rollout the manifest also carries its `rollout` block, and each rollout change its own
 * reference (`options.reference`).
 */
export async function publishClientManifest(
  deps: ClientPublicationDeps,
  entry: LedgerEntry,
  version: VersionRecord,
  download: ClientDownload,
  options: { rollout?: ManifestRollout; reference?: string } = {},
): Promise<ClientPublication> {
  const built = buildClientManifest(entry, version, download);
  const manifest = options.rollout ? { ...built, rollout: options.rollout } : built;
  const manifestKey = await publishManifest(deps.objects, deps.bucket, manifest);
  let invalidation: ClientPublication['invalidation'] = null;
  if (deps.cdn) {
    try {
      const id = await deps.cdn.invalidate(
        [manifestPath(entry.model, entry.stage)],
        options.reference ?? `${entry.model}/${entry.stage}#${entry.seq}`,
      );
      invalidation = { id };
    } catch (err) {
      invalidation = { error: (err as Error).message };
    }
  }
  return { manifest, manifestKey, invalidation };
}
