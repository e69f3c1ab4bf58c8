import type { RolloutEndKind, RolloutRecord } from '../../contracts/rollout-record.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { requireModel, requireStage } from '../../domain/pipeline/admission.js';
import type { ClientPublication } from '../deploy/client-publication.js';
import { noticeRolloutEnded, type StageNoticeDeps } from '../notices/stage-notices.js';
import { mayRollBack } from '../registry/rollback.js';
import { nowOf, type RolloutDeps } from './deps.js';
import { publishStage, rolloutReference, type StagePublishDeps } from './publish.js';

export interface AbortInput {
  readonly model: string;
  readonly stage: string;
  readonly reason: string;
  readonly actor: string;
  /** `auto-abort` for the rollout guard (actor `mlcycle-rollout-guard`), with its decision. */
  readonly kind?: Extract<RolloutEndKind, 'abort' | 'auto-abort'>;
  /** The decision an automatic abort acted on, kept in the ledger entry. */
  readonly decision?: unknown;
  /** Abort only the rollout at this revision (the guard's, decided on that evidence). */
  readonly expectedRevision?: number;
}

/** The actor name the automatic abort records. */
export const ROLLOUT_GUARD = 'mlcycle-rollout-guard';

/**
 * Ends the active rollout of a stage as aborted: the record, the stage's marker and the ledger
 * entry (with the decision for an automatic abort) in one transaction, then the manifest back to
 * the control alone (no rollout block) and the CDN invalidated. Nothing checks who asks: the
 * caller does (abortRolloutAs for people; the rollout guard is the platform).
 */
export async function abortRollout(
  deps: StagePublishDeps & Pick<RolloutDeps, 'clock'>,
  input: AbortInput,
): Promise<{ rollout: RolloutRecord; published: ClientPublication }> {
  if (!input.reason.trim()) throw new ValidationError('an abort needs a reason, kept in the ledger');
  for (let attempt = 1; ; attempt++) {
    const active = await deps.registry.rollouts.active(input.model, input.stage);
    if (!active) {
      throw new NotFoundError(`${input.model} ${input.stage} has no active rollout to abort`);
    }
    try {
      const rollout = await deps.registry.rollouts.end(
        input.model,
        input.stage,
        input.expectedRevision ?? active.revision,
        { at: nowOf(deps), actor: input.actor, reason: input.reason, kind: input.kind ?? 'abort' },
        input.decision === undefined ? {} : { decision: input.decision },
      );
      const published = await publishStage(deps, input.model, input.stage, rolloutReference(rollout));
      return { rollout, published };
    } catch (err) {
      // A person's abort wins over an evidence merge that landed since the read: read again.
      if (!(err instanceof ConflictError) || input.expectedRevision !== undefined || attempt >= 5) throw err;
    }
  }
}

/**
 * `POST /rollouts/{model}/{stage}/abort`: by someone who may roll the stage back; told once on
 * the notice channels afterwards (never undoing the abort).
 */
export async function abortRolloutAs(
  deps: RolloutDeps & { readonly notices?: StageNoticeDeps },
  input: Pick<AbortInput, 'model' | 'stage' | 'reason' | 'actor'>,
): Promise<{ rollout: RolloutRecord; published: ClientPublication; notice?: unknown }> {
  requireModel(deps.config, input.model);
  const env = requireStage(deps.config, input.stage);
  if (!mayRollBack(deps.config, input.stage, input.actor)) {
    throw new ForbiddenError(
      `${input.actor} may not abort rollouts on ${input.stage} (allowed: ${(env.rollbackBy ?? env.approvers).join(', ') || 'nobody'}; set environments.${input.stage}.rollbackBy)`,
    );
  }
  const out = await abortRollout(deps, { ...input, kind: 'abort' });
  return deps.notices ? { ...out, notice: await noticeRolloutEnded(deps.notices, out.rollout) } : out;
}
