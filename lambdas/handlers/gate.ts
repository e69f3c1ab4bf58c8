import { createDocumentClient } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { Registry } from '../adapters/registry/registry.js';
import { ENV } from '../contracts/env.js';
import { type GateOutcome, registeredStateSchema } from '../contracts/pipeline.js';
import { type GateDeps, gateCandidate } from '../services/pipeline/gate.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('gate');

/** Gate: the stage's gates against the candidate's metrics (see services/pipeline/gate.ts). */
export function makeGateHandler(deps: () => GateDeps) {
  return lambdaHandler(logger, correlationIds.execution, async (event: unknown): Promise<GateOutcome> => {
    const state = parseInput(registeredStateSchema, event, 'Gate input');
    const outcome = await gateCandidate(deps(), state);
    logger.info('gates evaluated', {
      model: state.model,
      version: state.registration.version,
      passed: outcome.passed,
    });
    return outcome;
  });
}

export const handler = makeGateHandler(
  once((): GateDeps => {
    const env = readEnv(registryEnvSchema);
    return {
      registry: new Registry(createDocumentClient(), env[ENV.table]),
      config: () => deployedConfig(),
    };
  }),
);
