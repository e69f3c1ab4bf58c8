import type { Registry } from '../../adapters/registry/registry.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import type { RolloutRecord } from '../../contracts/rollout-record.js';
import { variantsInForce } from '../../contracts/rollout-record.js';
import { NotFoundError } from '../../domain/errors.js';
import { requireModel, requireStage } from '../../domain/pipeline/admission.js';
import { decide, type Memory, type RolloutDecision } from '../../domain/rollouts/decide.js';

export interface RolloutStatus {
  /** The active rollout of the stage, else its latest one. */
  readonly rollout: RolloutRecord;
  /** The canary's share now, in percent (of the step in force). */
  readonly percent: number;
  /** decide() on the stored evidence with the model's deployed policy (never a caller's). */
  readonly decision: RolloutDecision;
}

/**
 * `GET /rollouts/{model}/{stage}` and `mlcycle rollout status`: the stage's rollout record and the
 * decision its evidence supports now (continue, promote, roll back) under `models.<m>.rollout.policy`.
 */
export async function rolloutStatus(
  deps: { readonly registry: Pick<Registry, 'rollouts'>; readonly config: MlcycleConfig },
  model: string,
  stage: string,
): Promise<RolloutStatus> {
  const policy = requireModel(deps.config, model).rollout.policy;
  requireStage(deps.config, stage);
  const rollout =
    (await deps.registry.rollouts.active(model, stage)) ??
    (await deps.registry.rollouts.list(model)).find((r) => r.stage === stage);
  if (!rollout) {
    throw new NotFoundError(
      `${model} ${stage} has had no rollout; start one with \`mlcycle rollout start ${model} --stage ${stage} --version <v> --percent 5\``,
    );
  }
  const steps = Object.fromEntries(rollout.steps.map((s, i) => [String(i), s.variants]));
  const memory = isMemory(rollout.memory) ? rollout.memory : undefined;
  const decision = decide({ evidence: rollout.evidence, steps, policy, ...(memory ? { memory } : {}) });
  return { rollout, percent: (variantsInForce(rollout)[0]?.weight ?? 0) / 100, decision };
}

function isMemory(value: unknown): value is Record<string, Memory> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
