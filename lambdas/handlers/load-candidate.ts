import { createDocumentClient } from '../adapters/aws-clients.js';
import { Registry } from '../adapters/registry/registry.js';
import { ENV } from '../contracts/env.js';
import { pipelineStateSchema } from '../contracts/pipeline.js';
import { type LoadCandidateDeps, loadCandidate } from '../services/pipeline/load-candidate.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('load-candidate');

/**
 * LoadCandidate (a promotion of an existing version): the state Gate, Approve and Deploy expect,
 * rebuilt from the version's registry record (see services/pipeline/load-candidate.ts).
 */
export function makeLoadCandidateHandler(deps: () => LoadCandidateDeps) {
  return lambdaHandler(logger, correlationIds.execution, async (event: unknown) => {
    const input = parseInput(pipelineStateSchema, event, 'execution state');
    const state = await loadCandidate(deps(), input);
    logger.info('candidate loaded', {
      model: input.model,
      version: state.registration.version,
      stage: input.stage,
    });
    return state;
  });
}

export const handler = makeLoadCandidateHandler(
  once((): LoadCandidateDeps => {
    const env = readEnv(registryEnvSchema);
    return { registry: new Registry(createDocumentClient(), env[ENV.table]) };
  }),
);
