import type { Registry } from '../../adapters/registry/registry.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import type { ApprovalPayload } from '../../contracts/pipeline.js';
import { buildApprovalRequest } from '../../domain/approval/request.js';
import type { ServingSnapshot } from '../../domain/approval/types.js';
import { requireStage } from '../../domain/pipeline/admission.js';
import { type ApprovalMailDeps, emailApprovers } from './mail.js';

export interface RequestApprovalDeps extends ApprovalMailDeps {
  readonly registry: Pick<Registry, 'stages' | 'versions'>;
  /** The deployed config: who approves the stage, how many, for how long. */
  readonly config: () => MlcycleConfig;
  readonly clock?: () => Date;
}

export interface ApprovalRequested {
  readonly requestId: string;
  readonly emailed: string[];
  readonly model: string;
  readonly version: string;
  readonly stage: string;
  /** The request was stored by an earlier delivery of the same Approve attempt. */
  readonly redelivered: boolean;
}

/**
 * What serves the stage now, for the approvers' side-by-side: the registry's stage pointer, the
 * ledger entry that moved it there (who, when) and that version's metrics. Not the public client
 * manifest, which names nobody.
 */
export async function servingSnapshot(
  registry: Pick<Registry, 'stages' | 'versions'>,
  model: string,
  stage: string,
): Promise<ServingSnapshot | null> {
  const pointer = await registry.stages.getStage(model, stage);
  if (!pointer) return null;
  const [entry, version] = await Promise.all([
    registry.stages.getLedgerEntry(model, stage, pointer.ledgerSeq),
    registry.versions.getVersion(model, pointer.version),
  ]);
  return {
    version: pointer.version,
    metrics: version?.metrics ?? {},
    promotedAt: entry?.at ?? pointer.since,
    promotedBy: entry?.actor ?? '',
  };
}

/**
 * The Approve state's use case, with its task token: stores the request and the token
 * server-side (never in a URL), then emails each approver of the stage (from the deployed
 * config, never the payload) a link of their own. The state waits until the approval callback
 * completes the token, or its timeout ends the wait. A quorum that cannot be reached fails here
 * (ValidationError) instead of waiting for the timeout.
 */
export async function requestApproval(
  d: RequestApprovalDeps,
  payload: ApprovalPayload,
): Promise<ApprovalRequested> {
  const now = (d.clock ?? (() => new Date()))();
  const env = requireStage(d.config(), payload.stage);
  const serving = await servingSnapshot(d.registry, payload.model, payload.stage);
  const request = buildApprovalRequest(
    {
      ...payload,
      approvers: env.approvers,
      quorum: env.quorum,
      timeoutSeconds: Math.max(1, Math.round(env.approvalTimeoutHours * 3600)),
      reminderSecondsBeforeExpiry: Math.round((env.reminderHoursBeforeExpiry ?? 0) * 3600),
    },
    serving,
    now,
  );
  const created = await d.store.create(request);
  // A redelivered invocation finds its request stored; it sends the same links again rather
  // than risk that the first attempt failed before emailing.
  const stored = created ? request : ((await d.store.get(request.requestId)) ?? request);
  const emailed = await emailApprovers(d, stored, 'request');
  return {
    requestId: stored.requestId,
    emailed,
    model: stored.model,
    version: stored.version,
    stage: stored.stage,
    redelivered: !created,
  };
}
