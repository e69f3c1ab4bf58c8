import { verifyArtifact } from '../../adapters/registry/artifact-check.js';
import type { Registry } from '../../adapters/registry/registry.js';
import type { S3Objects } from '../../adapters/s3-objects.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { normalizeEmail } from '../../domain/approval/quorum.js';
import { ForbiddenError, ValidationError } from '../../domain/errors.js';
import { requireModel, requireStage } from '../../domain/pipeline/admission.js';
import { rollbackTarget } from '../../domain/registry/rollback-target.js';
import { SERVABLE } from '../../domain/registry/status.js';
import type { LedgerEntry } from '../../domain/registry/types.js';
import {
  type ClientPublication,
  type ClientPublicationDeps,
  publishClientManifest,
  serveArtifact,
} from '../deploy/client-publication.js';
import { endRolloutOnStageChange } from '../rollouts/stage-change.js';

/** Who may roll a stage back: its `rollbackBy` list, or its approvers when it has none. */
export function mayRollBack(config: MlcycleConfig, stage: string, actor: string): boolean {
  const env = requireStage(config, stage);
  const allowed = (env.rollbackBy ?? env.approvers).map(normalizeEmail);
  return allowed.includes(normalizeEmail(actor));
}

/**
 * Rolls a stage back, by someone the deployed policy allows, to a version that served it before
 * and was not rejected for it since (the previous one by default, or a named one): validates the
 * target's artifact first and copies it where clients download it (verified) — nothing moves if
 * it is missing or altered — then moves the pointer with a `rollback` ledger entry naming who and
 * why, republishes the client manifest and invalidates the CDN's cached one.
 */
export async function rollback(
  deps: ClientPublicationDeps & {
    registry: Registry;
    objects: S3Objects;
    bucket: string;
    config: MlcycleConfig;
  },
  input: { model: string; stage: string; to?: string; reason: string; actor: string },
): Promise<{ entry: LedgerEntry } & ClientPublication> {
  const { registry, objects, config } = deps;
  requireModel(config, input.model);
  const env = requireStage(config, input.stage);
  if (!mayRollBack(config, input.stage, input.actor)) {
    throw new ForbiddenError(
      `${input.actor} may not roll back ${input.stage} (allowed: ${(env.rollbackBy ?? env.approvers).join(', ') || 'nobody'}; set environments.${input.stage}.rollbackBy)`,
    );
  }
  if (!input.reason.trim()) throw new ValidationError('a rollback needs a reason, kept in the ledger');
  const pointer = await registry.stages.getStage(input.model, input.stage);
  const ledger = await registry.stages.history(input.model, { stage: input.stage });
  const target = rollbackTarget(input.model, input.stage, pointer, ledger, input.to);
  const version = await registry.versions.requireVersion(input.model, target);
  if (!SERVABLE.includes(version.status)) {
    throw new ValidationError(
      `${input.model} ${target} is ${version.status} and cannot serve again; promote another version`,
    );
  }
  const checked = await verifyArtifact(objects, version.lineage.artifactUri, version.lineage.artifactSha256);
  // Before the stage moves: the copy clients will download, its sha256 verified.
  const download = await serveArtifact(deps, version);
  const entry = await registry.stages.promote({
    model: input.model,
    stage: input.stage,
    version: target,
    actor: input.actor,
    reason: input.reason,
    action: 'rollback',
    evidence: { validation: { sha256: checked.sha256, size: checked.size } },
  });
  // A rollout on the stage ends with it (superseded): the manifest goes back to one version.
  await endRolloutOnStageChange(registry, entry);
  return { entry, ...(await publishClientManifest(deps, entry, version, download)) };
}
