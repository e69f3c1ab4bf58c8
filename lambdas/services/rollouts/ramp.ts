import type { RolloutRecord } from '../../contracts/rollout-record.js';
import { variantsInForce } from '../../contracts/rollout-record.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { requireModel } from '../../domain/pipeline/admission.js';
import { checkRamp } from '../../domain/rollouts/ramp.js';
import type { ClientPublication } from '../deploy/client-publication.js';
import { checkPercent, nowOf, type RolloutDeps, requireMayChangeRollout } from './deps.js';
import { publishStage, rolloutReference } from './publish.js';

export interface RampInput {
  readonly model: string;
  readonly stage: string;
  readonly percent: number;
  readonly reason: string;
  /** The authenticated caller (never a body field). */
  readonly actor: string;
}

/**
 * Ramps the active rollout of a stage to `percent` for its canary, by one of the stage's approvers
 * or rollbackBy: the new weights must pass checkRamp (the canary only grows, nobody who had it
 * loses it; anything else is a new rollout), then a step is appended with its ledger entry, the
 * manifest republished and the CDN invalidated.
 */
export async function rampRollout(
  deps: RolloutDeps,
  input: RampInput,
): Promise<{ rollout: RolloutRecord; published: ClientPublication }> {
  requireModel(deps.config, input.model);
  requireMayChangeRollout(deps.config, input.stage, input.actor, 'ramp');
  const basisPoints = checkPercent(input.percent);
  const active = await deps.registry.rollouts.active(input.model, input.stage);
  if (!active) {
    throw new NotFoundError(
      `${input.model} ${input.stage} has no active rollout to ramp; start one with \`mlcycle rollout start ${input.model} --stage ${input.stage}\``,
    );
  }
  const current = variantsInForce(active);
  const control = current[current.length - 1];
  if (current.length !== 2 || !control) {
    throw new ValidationError(
      `rollout ${active.rolloutId} has ${current.length} variants: only a canary ramps by percent`,
    );
  }
  const proposed = current.map((v, i) => ({ ...v, weight: i === 0 ? basisPoints : 10_000 - basisPoints }));
  if (current[0]?.weight === basisPoints) {
    throw new ConflictError(`rollout ${active.rolloutId} is already at ${input.percent} %: nothing to ramp`);
  }
  const check = checkRamp(current, proposed);
  if (!check.ok)
    throw new ConflictError(
      `ramp of rollout ${active.rolloutId} to ${input.percent} % refused: ${check.reason}`,
    );
  const rollout = await deps.registry.rollouts.ramp(input.model, input.stage, active.revision, {
    variants: proposed,
    at: nowOf(deps),
    actor: input.actor,
    reason: input.reason,
  });
  const published = await publishStage(deps, input.model, input.stage, rolloutReference(rollout));
  return { rollout, published };
}
