import type { ApprovalStore } from '../../adapters/approval/approval-store.js';
import type { Registry } from '../../adapters/registry/registry.js';
import type { S3Objects } from '../../adapters/s3-objects.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { manifestKey } from '../../contracts/manifest.js';
import type { DeployState } from '../../contracts/pipeline.js';
import { approvalGap } from '../../domain/approval/deploy-authorization.js';
import { ForbiddenError, IllegalTransitionError } from '../../domain/errors.js';
import { requireStage } from '../../domain/pipeline/admission.js';
import { SERVABLE } from '../../domain/registry/status.js';
import { isStageChange, type LedgerEntry } from '../../domain/registry/types.js';
import { endRolloutOnStageChange } from '../rollouts/stage-change.js';
import { startRollout } from '../rollouts/start.js';
import {
  type ClientPublication,
  type ClientPublicationDeps,
  publishClientManifest,
  serveArtifact,
} from './client-publication.js';
import { type DeployValidation, validateCandidate, validationSchema } from './validate.js';

export interface DeployDeps extends ClientPublicationDeps {
  readonly bucket: string;
  readonly objects: S3Objects;
  readonly registry: Registry;
  readonly approvals: Pick<ApprovalStore, 'get' | 'decisions'>;
  /** The deployed config: the approvals the stage asks for now. */
  readonly config: () => MlcycleConfig;
  readonly clock?: () => Date;
}

export interface DeployResult {
  readonly version: string;
  readonly previousVersion: string | null;
  readonly ledgerSeq: number;
  readonly manifestKey: string;
  readonly validation: DeployValidation;
  /** The manifest's download (URL, sha256, size), and whether the CDN was told; null if superseded. */
  readonly published:
    | (Pick<ClientPublication, 'invalidation'> & { download: ClientPublication['manifest']['download'] })
    | null;
  /** This execution's deployment was already in the ledger (a redelivered Deploy): nothing moved. */
  readonly redelivered: boolean;
  /** A rollout this deployment started (the stage did not move), or one its promotion ended. */
  readonly rollout?: { rolloutId: string; status: string; created?: boolean };
  /**
   * A newer ledger entry has moved the stage since this deployment: the stage and its manifest
   * were left as they are (the version that serves now, and its sequence number).
   */
  readonly supersededBy: { version: string; ledgerSeq: number } | null;
}

/**
 * What makes this Deploy one deployment, whatever the number of deliveries: the run PrepareRun
 * allocated for this execution, or for a promotion of an existing version (whose run, if any,
 * is the one that trained it, shared by every promotion of it) the id LoadCandidate allocated,
 * else the approval request of this execution. Undefined only for a promotion started before
 * LoadCandidate allocated ids and approved by nobody.
 */
export function deploymentKey(state: DeployState): string | undefined {
  if (!state.promote) return `run:${state.run.runId}`;
  if (state.promotionId) return `promotion:${state.promotionId}`;
  if (state.approval) return `approval:${state.approval.requestId}`;
  return undefined;
}

/**
 * Deploy moves nothing without the approvals the deployed policy asks of the stage now (the state
 * says which request approved it; the store says whether it did), and an approval deploys once:
 * a state that carries one which already moved the stage under another deployment key (an
 * earlier deployment's state with a new promotion id or run) is a replay, refused.
 */
async function requireApproval(deps: DeployDeps, state: DeployState, key: string | undefined): Promise<void> {
  const { approvals, registry } = deps;
  const policy = requireStage(deps.config(), state.stage);
  if (policy.quorum < 1) return;
  const requestId = state.approval?.requestId;
  const request = requestId ? await approvals.get(requestId) : undefined;
  const decisions = request ? await approvals.decisions(request.requestId) : [];
  const gap = approvalGap(
    {
      executionArn: state.execution.arn,
      model: state.model,
      version: state.registration.version,
      stage: state.stage,
      requestedBy: state.requestedBy,
    },
    policy,
    request,
    decisions,
  );
  if (gap) throw new ForbiddenError(`not deployed: ${gap}`);
  const used = requestId
    ? await registry.stages.findByApprovalRequest(state.model, state.stage, requestId)
    : undefined;
  if (used && used.evidence.idempotencyKey !== key) {
    throw new ForbiddenError(
      `not deployed: approval request ${requestId} was used already: ledger #${used.seq} deployed ${state.model} ${used.toVersion} to ${state.stage} with it (an approval deploys once)`,
    );
  }
}

/**
 * Deploy: validates the candidate (artifact exists, checksum matches the registry, the model
 * loads and predicts on real rows) and copies the artifact where clients download it (verified),
 * then moves the stage pointer and appends the ledger entry in one transaction, then publishes
 * the client manifest pointing at the copy and invalidates the CDN's cached one.
 *
 * At most once per execution: the ledger entry carries the deployment key (see deploymentKey),
 * and a redelivered Deploy that finds it moves nothing. If the stage still serves that entry it
 * republishes the manifest (the first attempt may have died before publishing); if a newer
 * deployment has moved the stage since, it leaves the stage and the manifest alone.
 */
export async function deploy(deps: DeployDeps, state: DeployState): Promise<DeployResult> {
  const { objects, registry } = deps;
  const { model, stage } = state;
  const key = deploymentKey(state);
  await requireApproval(deps, state, key);
  const version = await registry.versions.requireVersion(model, state.registration.version);

  let entry: LedgerEntry | undefined = key
    ? await registry.stages.findByIdempotencyKey(model, stage, key)
    : undefined;
  let redelivered = entry !== undefined;
  const recorded = validationSchema.safeParse(entry?.evidence.validation);
  const validation = recorded.success ? recorded.data : await validateCandidate(objects, state, version);

  if (!entry && !key) {
    // No key to recognise a redelivery by: a stage already at this version is taken as done.
    const current = await registry.stages.getStage(model, stage);
    const newest =
      current?.version === version.version
        ? (await registry.stages.history(model, { stage })).find(isStageChange)
        : undefined;
    if (newest?.toVersion === version.version) entry = newest;
  }
  if (!entry && !SERVABLE.includes(version.status)) {
    // Refused before the served copy is written (the ledger would refuse it too).
    throw new IllegalTransitionError(
      `${model} ${version.version} is ${version.status}; only ${SERVABLE.join(' or ')} versions can serve a stage`,
    );
  }
  // Before the stage moves: the copy clients will download, its sha256 verified.
  const download = await serveArtifact(deps, version);
  if (state.rollout) return deployRollout(deps, state, key, validation);
  if (!entry) {
    const promotion = {
      model,
      stage,
      version: version.version,
      actor: state.requestedBy,
      reason:
        state.reason ||
        (state.promote ? `promotion of ${version.version}` : `pipeline run ${state.run.runId}`),
      action: 'promote' as const,
      evidence: {
        gate: state.gate,
        approvals: state.approval?.approvedBy ?? [],
        validation,
        ...(state.approval ? { requestId: state.approval.requestId } : {}),
      },
    };
    if (key) {
      const once = await registry.stages.promoteOnce({ ...promotion, idempotencyKey: key });
      entry = once.entry;
      redelivered = !once.created;
    } else entry = await registry.stages.promote(promotion);
  }

  const pointer = await registry.stages.getStage(model, stage);
  const supersededBy =
    pointer && pointer.ledgerSeq !== entry.seq
      ? { version: pointer.version, ledgerSeq: pointer.ledgerSeq }
      : null;
  let published: DeployResult['published'] = null;
  // A rollout on the stage ends with the move: promoted (its canary) or superseded.
  const ended = supersededBy ? undefined : await endRolloutOnStageChange(registry, entry);
  if (!supersededBy) {
    const out = await publishClientManifest(deps, entry, version, download);
    published = { download: out.manifest.download, invalidation: out.invalidation };
  }
  // A promotion of an existing version has no run of its own: the run in its state is the one
  // that trained the version (or none, for one registered outside a pipeline), and it is not ours
  // to end — failing on it here would report a deploy failure after the stage already moved.
  // A redelivery ends the run only if the first delivery died before it did (keeping its time).
  if (!state.promote) {
    const ended = redelivered && (await registry.runs.getRun(model, state.run.runId))?.status === 'succeeded';
    if (!ended) {
      await registry.runs.updateRun(model, state.run.runId, {
        status: 'succeeded',
        finishedAt: (deps.clock ?? (() => new Date()))().toISOString(),
      });
    }
  }
  return {
    version: version.version,
    previousVersion: entry.fromVersion,
    ledgerSeq: entry.seq,
    manifestKey: manifestKey(model, stage),
    validation,
    published,
    redelivered,
    supersededBy,
    ...(ended ? { rollout: { rolloutId: ended.rolloutId, status: ended.status } } : {}),
  };
}

/** Deploy of a rollout start: the stage does not move; the rollout starts (services/rollouts/start.ts). */
async function deployRollout(
  deps: DeployDeps,
  state: DeployState,
  key: string | undefined,
  validation: DeployValidation,
): Promise<DeployResult> {
  const percent = state.rollout?.percent ?? 0;
  const started = await startRollout(deps, {
    model: state.model,
    stage: state.stage,
    version: state.registration.version,
    percent,
    actor: state.requestedBy,
    reason: state.reason || `canary rollout of ${state.registration.version} at ${percent} %`,
    approval: state.approval
      ? { requestId: state.approval.requestId, approvedBy: state.approval.approvedBy.map((a) => a.approver) }
      : null,
    ...(key ? { deploymentKey: key } : {}),
  });
  const { record, published } = started;
  return {
    version: record.canaryVersion,
    previousVersion: record.controlVersion,
    ledgerSeq: (await deps.registry.stages.getStage(state.model, state.stage))?.ledgerSeq ?? 0,
    manifestKey: manifestKey(state.model, state.stage),
    validation,
    published: published
      ? { download: published.manifest.download, invalidation: published.invalidation }
      : null,
    redelivered: !started.created,
    supersededBy: null,
    rollout: { rolloutId: record.rolloutId, status: record.status, created: started.created },
  };
}
