import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { verifyArtifact } from '../adapters/registry/artifact-check.js';
import { publishManifest } from '../adapters/registry/manifest.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { type SmokeCandidate, smokeTestArtifact } from '../adapters/registry/smoke-sample.js';
import { childUri, parseS3Uri, S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { manifestKey } from '../contracts/manifest.js';
import { approvedStateSchema } from '../contracts/pipeline.js';
import { approvalGap } from '../domain/approval/deploy-authorization.js';
import { ForbiddenError } from '../domain/errors.js';
import { requireStage } from '../domain/pipeline/admission.js';
import { buildClientManifest } from '../domain/registry/manifest.js';
import { isStageChange, type LedgerEntry, type VersionRecord } from '../domain/registry/types.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('deploy');
const deps = once(() => {
  const env = readEnv(registryEnvSchema);
  const doc = createDocumentClient();
  return {
    bucket: env[ENV.bucket],
    objects: new S3Objects(createS3Client()),
    store: new RegistryStore(doc, env[ENV.table]),
    approvals: new ApprovalStore(doc, env[ENV.table]),
  };
});

/** Rows a smoke test scores. */
const SMOKE_ROWS = 5;

/** `promotionId` is set by LoadCandidate: one per promotion execution. */
const deployStateSchema = approvedStateSchema.extend({ promotionId: z.string().min(1).optional() });
type DeployState = z.infer<typeof deployStateSchema>;

const validationSchema = z.object({
  sha256: z.string(),
  size: z.number(),
  smokePredictions: z.array(z.number()),
  smokeSample: z.object({
    source: z.enum(['holdout', 'dataset', 'schema']),
    uri: z.string().nullable(),
    rows: z.number(),
    skipped: z.array(z.object({ uri: z.string(), why: z.string() })),
  }),
});
export type DeployValidation = z.infer<typeof validationSchema>;

export interface DeployResult {
  readonly version: string;
  readonly previousVersion: string | null;
  readonly ledgerSeq: number;
  readonly manifestKey: string;
  readonly validation: DeployValidation;
  /** This execution's deployment was already in the ledger (a redelivered Deploy): nothing moved. */
  readonly redelivered: boolean;
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
 * The samples a smoke test tries, best first: the held-out rows beside the run outputs (every
 * pipeline-trained version has them), then the head of the version's dataset; without either
 * (an artifact registered outside a pipeline, without its data), rows built from the
 * artifact's own feature schema.
 */
function smokeCandidates(state: DeployState, version: VersionRecord): SmokeCandidate[] {
  const out: SmokeCandidate[] = [{ source: 'holdout', uri: childUri(state.run.outputUri, 'holdout.csv') }];
  if (version.lineage.datasetUri) out.push({ source: 'dataset', uri: version.lineage.datasetUri });
  return out;
}

async function validate(
  objects: S3Objects,
  state: DeployState,
  version: VersionRecord,
): Promise<DeployValidation> {
  const artifactUri = version.lineage.artifactUri;
  const checked = await verifyArtifact(objects, artifactUri, version.lineage.artifactSha256);
  const smoke = await smokeTestArtifact(
    objects,
    await objects.getText(parseS3Uri(artifactUri)),
    smokeCandidates(state, version),
    SMOKE_ROWS,
  );
  return {
    sha256: checked.sha256,
    size: checked.size,
    smokePredictions: smoke.predictions,
    smokeSample: { ...smoke.sample, skipped: [...smoke.sample.skipped] },
  };
}

/**
 * Deploy moves nothing without the approvals the deployed policy asks of the stage now (the state
 * says which request approved it; the store says whether it did).
 */
async function requireApproval(approvals: ApprovalStore, state: DeployState): Promise<void> {
  const policy = requireStage(deployedConfig(), state.stage);
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
}

/**
 * Deploy: validates the candidate (artifact exists, checksum matches the registry, the model
 * loads and predicts on real rows), then moves the stage pointer and appends the ledger entry in
 * one transaction, then publishes the client manifest.
 *
 * At most once per execution: the ledger entry carries the deployment key (see deploymentKey),
 * and a redelivered Deploy that finds it moves nothing. If the stage still serves that entry it
 * republishes the manifest (the first attempt may have died before publishing); if a newer
 * deployment has moved the stage since, it leaves the stage and the manifest alone.
 */
export const handler = async (event: unknown): Promise<DeployResult> => {
  const state = parseInput(deployStateSchema, event, 'Deploy input');
  const { bucket, objects, store, approvals } = deps();
  const { model, stage } = state;
  await requireApproval(approvals, state);
  const version = await store.requireVersion(model, state.registration.version);
  const key = deploymentKey(state);

  let entry: LedgerEntry | undefined = key ? await store.findByIdempotencyKey(model, stage, key) : undefined;
  let redelivered = entry !== undefined;
  const recorded = validationSchema.safeParse(entry?.evidence.validation);
  const validation = recorded.success ? recorded.data : await validate(objects, state, version);

  if (!entry && !key) {
    // No key to recognise a redelivery by: a stage already at this version is taken as done.
    const current = await store.getStage(model, stage);
    const newest =
      current?.version === version.version
        ? (await store.history(model, { stage })).find(isStageChange)
        : undefined;
    if (newest?.toVersion === version.version) entry = newest;
  }
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
      const once = await store.promoteOnce({ ...promotion, idempotencyKey: key });
      entry = once.entry;
      redelivered = !once.created;
    } else entry = await store.promote(promotion);
  }

  const pointer = await store.getStage(model, stage);
  const supersededBy =
    pointer && pointer.ledgerSeq !== entry.seq
      ? { version: pointer.version, ledgerSeq: pointer.ledgerSeq }
      : null;
  if (supersededBy) {
    logger.warn('redelivered after a newer deployment: stage and manifest left as they are', {
      model,
      stage,
      version: version.version,
      ledgerSeq: entry.seq,
      serving: supersededBy,
    });
  } else {
    await publishManifest(objects, bucket, buildClientManifest(entry, version, validation.sha256));
  }
  // A promotion of an existing version has no run of its own: the run in its state is the one
  // that trained the version (or none, for one registered outside a pipeline), and it is not ours
  // to end — failing on it here would report a deploy failure after the stage already moved.
  // A redelivery ends the run only if the first delivery died before it did (keeping its time).
  if (!state.promote) {
    const ended = redelivered && (await store.getRun(model, state.run.runId))?.status === 'succeeded';
    if (!ended) {
      await store.updateRun(model, state.run.runId, {
        status: 'succeeded',
        finishedAt: new Date().toISOString(),
      });
    }
  }
  logger.info('deployed', { model, stage, version: version.version, ledgerSeq: entry.seq, redelivered });
  return {
    version: version.version,
    previousVersion: entry.fromVersion,
    ledgerSeq: entry.seq,
    manifestKey: manifestKey(model, stage),
    validation,
    redelivered,
    supersededBy,
  };
};
