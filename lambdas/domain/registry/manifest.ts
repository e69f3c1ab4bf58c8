import type { ClientDownload, ClientManifest, ManifestRollout } from '../../contracts/manifest.js';
import { ROLLOUT_HASH, type RolloutVariant } from '../../contracts/rollout.js';
import { isStageChange, type LedgerEntry, type VersionRecord } from './types.js';

/**
 * The client manifest a stage change publishes (deployments/<model>/<stage>.json, served to game
 * clients and services by GET /models/<model>/<stage>): which version serves, the URL to download
 * it from, its checksum and size, and where the change sits in the ledger. Built here alone, for a
 * promotion and a rollback alike.
 *
 * The manifest is public, so it carries no personal data: who promoted, approved or rolled back,
 * and why, stay in the registry's ledger (`models history`, the approval page).
 */
export function buildClientManifest(
  entry: LedgerEntry,
  version: VersionRecord,
  /**
   * The served copy of the artifact (its URL under the client base URL), whose sha256 was
   * verified just before the change and matched the registry's.
   */
  download: ClientDownload,
): ClientManifest {
  if (!isStageChange(entry) || entry.action === 'reject' || entry.action === 'rollout') {
    throw new Error(`ledger entry ${entry.stage}#${entry.seq} (${entry.action}) did not move the stage`);
  }
  if (entry.model !== version.model || entry.toVersion !== version.version) {
    throw new Error(
      `ledger entry ${entry.stage}#${entry.seq} moved ${entry.model} to ${entry.toVersion}, not ${version.model} ${version.version}`,
    );
  }
  if (download.sha256 !== version.lineage.artifactSha256) {
    throw new Error(
      `the served copy of ${version.model} ${version.version} has sha256 ${download.sha256}, not the registry's ${version.lineage.artifactSha256}`,
    );
  }
  return {
    schema: 'mlcycle.manifest/v2',
    model: entry.model,
    stage: entry.stage,
    version: entry.toVersion,
    download: { url: download.url, sha256: download.sha256, size: download.size },
    metrics: version.metrics,
    promotedAt: entry.at,
    ledgerSeq: entry.seq,
    previousVersion: entry.fromVersion,
    action: entry.action,
  };
}

/**
 * The manifest's `rollout` block: the rollout id, the variants in force (canary first, control
 * last) each with the download of its version. Every version's download must be given (the
 * verified served copy); the control's is the manifest's own.
 */
export function buildRolloutBlock(
  rolloutId: string,
  variants: readonly RolloutVariant[],
  downloads: ReadonlyMap<string, ClientDownload>,
): ManifestRollout {
  return {
    hash: ROLLOUT_HASH,
    rolloutId,
    variants: variants.map((v) => {
      const download = downloads.get(v.version);
      if (!download)
        throw new Error(`no served copy of ${v.version} for variant ${v.name} of rollout ${rolloutId}`);
      return { name: v.name, version: v.version, weight: v.weight, download };
    }),
  };
}
