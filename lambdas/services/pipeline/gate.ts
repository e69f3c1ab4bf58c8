import type { Registry } from '../../adapters/registry/registry.js';
import { effectiveGates, type MlcycleConfig } from '../../contracts/config-schema.js';
import type { GateOutcome, RegisteredState } from '../../contracts/pipeline.js';
import { requireStage } from '../../domain/pipeline/admission.js';
import { evaluateGates } from '../../domain/registry/gates.js';

export interface GateDeps {
  readonly registry: Pick<Registry, 'stages' | 'versions'>;
  /** The deployed config: the stage's gates and whether it needs approval. */
  readonly config: () => MlcycleConfig;
}

/**
 * Gate's use case: checks the target environment's gates (from the deployed config, never the
 * state) against the candidate's metrics and, for relative gates, the metrics of the version
 * serving that stage now. The outcome (with every gate's evidence) is the Choice state's input
 * and ends up in the ledger or the failure record.
 */
export async function gateCandidate(deps: GateDeps, state: RegisteredState): Promise<GateOutcome> {
  const { registry } = deps;
  const pointer = await registry.stages.getStage(state.model, state.stage);
  const servingRecord = pointer
    ? await registry.versions.getVersion(state.model, pointer.version)
    : undefined;
  const config = deps.config();
  const env = requireStage(config, state.stage);
  return evaluateGates(
    // The model's own gates for this stage when it has some (a regression model is not gated on AUC).
    effectiveGates(config, state.model, state.stage),
    state.evaluation.metrics,
    servingRecord ? { version: servingRecord.version, metrics: servingRecord.metrics } : null,
    env.quorum > 0,
    state.evaluation.reportedMetrics,
  );
}
