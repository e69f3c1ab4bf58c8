import type { RolloutRecord } from '../../contracts/rollout-record.js';
import { ConflictError } from '../../domain/errors.js';
import type { StagePointer } from '../../domain/registry/types.js';

/** The registry reads a rollout start is checked against. */
export interface RolloutStartReads {
  readonly stages: { getStage(model: string, stage: string): Promise<StagePointer | undefined> };
  readonly rollouts: { active(model: string, stage: string): Promise<RolloutRecord | undefined> };
}

/**
 * Whether `version` can start a rollout on the stage: the stage serves a version (the control),
 * not this one, and has no active rollout (a new one needs the old one ended). Returns what
 * serves; the start service asks before starting an execution, Deploy again before it writes.
 */
export async function requireRolloutStartable(
  reads: RolloutStartReads,
  model: string,
  stage: string,
  version: string,
): Promise<StagePointer> {
  const [pointer, active] = await Promise.all([
    reads.stages.getStage(model, stage),
    reads.rollouts.active(model, stage),
  ]);
  if (!pointer) {
    throw new ConflictError(
      `${model} ${stage} serves nothing yet, so a rollout of ${version} has no control to share players with; promote it instead (\`mlcycle models promote ${model} ${version} --stage ${stage}\`)`,
    );
  }
  if (pointer.version === version) {
    throw new ConflictError(`${model} ${stage} already serves ${version}: there is nothing to roll out`);
  }
  if (active) {
    throw new ConflictError(
      `rollout ${active.rolloutId} of ${model} ${stage} (${active.canaryVersion} against ${active.controlVersion}) is still active; promote or abort it first (\`mlcycle rollout abort ${model} --stage ${stage}\`)`,
    );
  }
  return pointer;
}
