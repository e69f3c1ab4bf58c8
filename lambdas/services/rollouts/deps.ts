import type { Registry } from '../../adapters/registry/registry.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { normalizeEmail } from '../../domain/approval/quorum.js';
import { ForbiddenError, ValidationError } from '../../domain/errors.js';
import { requireStage } from '../../domain/pipeline/admission.js';
import type { StagePublishDeps } from './publish.js';

/** What the rollout use cases (ramp, abort, status) need: the registry, the manifest's home, the policy. */
export interface RolloutDeps extends StagePublishDeps {
  readonly registry: Registry;
  /** The deployed config: who may ramp or abort, and the model's rollout policy. */
  readonly config: MlcycleConfig;
  readonly clock?: () => Date;
}

/** Who may change a running rollout: the stage's approvers and its `rollbackBy` list. */
export function mayChangeRollout(config: MlcycleConfig, stage: string, actor: string): boolean {
  const env = requireStage(config, stage);
  const allowed = [...env.approvers, ...(env.rollbackBy ?? [])].map(normalizeEmail);
  return allowed.includes(normalizeEmail(actor));
}

export function requireMayChangeRollout(
  config: MlcycleConfig,
  stage: string,
  actor: string,
  what: string,
): void {
  if (mayChangeRollout(config, stage, actor)) return;
  const env = requireStage(config, stage);
  const allowed = [...new Set([...env.approvers, ...(env.rollbackBy ?? [])])];
  throw new ForbiddenError(
    `${actor} may not ${what} rollouts on ${stage} (allowed: ${allowed.join(', ') || 'nobody'}: the stage's approvers and environments.${stage}.rollbackBy)`,
  );
}

/** A rollout share in percent: above 0, at most 100, at most 2 decimals. */
export function checkPercent(percent: number): number {
  if (!Number.isFinite(percent) || percent <= 0 || percent > 100) {
    throw new ValidationError(
      `percent ${percent} is not in (0, 100]: give the canary's share of players, e.g. 25`,
    );
  }
  if (Math.abs(percent * 100 - Math.round(percent * 100)) > 1e-9) {
    throw new ValidationError(
      `percent ${percent} has more than 2 decimals (the assignment has 10000 buckets)`,
    );
  }
  return Math.round(percent * 100);
}

export const nowOf = (deps: Pick<RolloutDeps, 'clock'>) => (deps.clock ?? (() => new Date()))().toISOString();
