import { createDocumentClient } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { ENV } from '../contracts/env.js';
import { type GateOutcome, registeredStateSchema } from '../contracts/pipeline.js';
import { requireStage } from '../domain/pipeline/admission.js';
import { evaluateGates } from '../domain/registry/gates.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('gate');
const deps = once(() => {
  const env = readEnv(registryEnvSchema);
  return { store: new RegistryStore(createDocumentClient(), env[ENV.table]) };
});

/**
 * Gate: checks the target environment's gates (from the deployed config) against the candidate's metrics and, for
 * relative gates, the metrics of the version serving that stage now. The outcome (with every
 * gate's evidence) is the Choice state's input and ends up in the ledger or the failure record.
 */
export const handler = async (event: unknown): Promise<GateOutcome> => {
  const state = parseInput(registeredStateSchema, event, 'Gate input');
  const { store } = deps();
  const pointer = await store.getStage(state.model, state.stage);
  const servingRecord = pointer ? await store.getVersion(state.model, pointer.version) : undefined;
  // The stage's gates and whether it needs approval: the deployed policy, never the state's.
  const env = requireStage(deployedConfig(), state.stage);
  const outcome = evaluateGates(
    env.gates,
    state.evaluation.metrics,
    servingRecord ? { version: servingRecord.version, metrics: servingRecord.metrics } : null,
    env.quorum > 0,
    state.evaluation.reportedMetrics,
  );
  logger.info('gates evaluated', {
    model: state.model,
    version: state.registration.version,
    passed: outcome.passed,
  });
  return outcome;
};
