import type { ClientManifest } from '../../contracts/manifest.js';
import { isStageChange, type LedgerEntry, type VersionRecord } from './types.js';

/**
 * The client manifest a stage change publishes (deployments/<model>/<stage>.json, served to game
 * clients and services by GET /models/<model>/<stage>): which version serves, where to download
 * it and its checksum, and where the change sits in the ledger. Built here alone, for a
 * promotion and a rollback alike.
 *
 * The manifest is public, so it carries no personal data: who promoted, approved or rolled back,
 * and why, stay in the registry's ledger (`models history`, the approval page).
 */
export function buildClientManifest(
  entry: LedgerEntry,
  version: VersionRecord,
  /** The artifact's sha256 as validated just before the change (it matched the registry's). */
  artifactSha256: string,
): ClientManifest {
  if (!isStageChange(entry) || entry.action === 'reject') {
    throw new Error(`ledger entry ${entry.stage}#${entry.seq} (${entry.action}) did not move the stage`);
  }
  if (entry.model !== version.model || entry.toVersion !== version.version) {
    throw new Error(
      `ledger entry ${entry.stage}#${entry.seq} moved ${entry.model} to ${entry.toVersion}, not ${version.model} ${version.version}`,
    );
  }
  return {
    schema: 'mlcycle.manifest/v1',
    model: entry.model,
    stage: entry.stage,
    version: entry.toVersion,
    artifact: { uri: version.lineage.artifactUri, sha256: artifactSha256 },
    metrics: version.metrics,
    promotedAt: entry.at,
    ledgerSeq: entry.seq,
    previousVersion: entry.fromVersion,
    action: entry.action,
  };
}
