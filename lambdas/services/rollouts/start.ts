import { percentToBasisPoints } from '../../contracts/pipeline.js';
import type { RolloutRecord } from '../../contracts/rollout-record.js';
import { canaryWeights } from '../../domain/rollouts/ramp.js';
import type { ClientPublication } from '../deploy/client-publication.js';
import { publishStage, rolloutReference, type StagePublishDeps } from './publish.js';
import { requireRolloutStartable } from './startable.js';

export interface RolloutStartRequest {
  readonly model: string;
  readonly stage: string;
  /** The canary: a version that passed the stage's gates and approvals (Deploy checked). */
  readonly version: string;
  readonly percent: number;
  readonly actor: string;
  readonly reason: string;
  readonly approval: RolloutRecord['approval'];
  /** Deploy's deployment key: a redelivered Deploy finds its rollout and starts nothing. */
  readonly deploymentKey?: string;
}

export interface RolloutStarted {
  readonly record: RolloutRecord;
  /** False for a redelivery: the rollout existed already (and may have ended since). */
  readonly created: boolean;
  /** The manifest published with the rollout block, or null when the rollout is no longer active. */
  readonly published: ClientPublication | null;
}

/**
 * Deploy's end of a rollout start (`mlcycle rollout start`): with the canary validated and its
 * served copy verified, records the rollout (canary first at `percent`, the serving version as the
 * control) with its `start` ledger entry, then publishes the manifest with the rollout block and
 * invalidates the CDN. 100 % is blue-green: the control stays listed at weight 0, warm.
 */
export async function startRollout(
  deps: StagePublishDeps,
  request: RolloutStartRequest,
): Promise<RolloutStarted> {
  const { registry } = deps;
  const { model, stage } = request;
  if (request.deploymentKey) {
    const earlier = (await registry.rollouts.list(model)).find(
      (r) => r.deploymentKey === request.deploymentKey,
    );
    if (earlier) {
      const published =
        earlier.status === 'active'
          ? await publishStage(deps, model, stage, rolloutReference(earlier))
          : null;
      return { record: earlier, created: false, published };
    }
  }
  const pointer = await requireRolloutStartable(registry, model, stage, request.version);
  const variants = canaryWeights(
    { name: 'canary', version: request.version },
    { name: 'control', version: pointer.version },
    percentToBasisPoints(request.percent),
  );
  const { record, created } = await registry.rollouts.start({
    model,
    stage,
    canaryVersion: request.version,
    controlVersion: pointer.version,
    ledgerSeq: pointer.ledgerSeq,
    variants,
    actor: request.actor,
    reason: request.reason,
    approval: request.approval,
    ...(request.deploymentKey ? { deploymentKey: request.deploymentKey } : {}),
  });
  const published = await publishStage(deps, model, stage, rolloutReference(record));
  return { record, created, published };
}
