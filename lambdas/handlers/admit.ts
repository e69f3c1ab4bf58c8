import { z } from 'zod';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { StartStore } from '../adapters/pipeline/start-store.js';
import type { MlcycleConfig } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import type { PipelineState } from '../contracts/pipeline.js';
import { type AdmitDeps, admitExecution } from '../services/pipeline/admit.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('admit');

export interface AdmitHandlerDeps {
  readonly starts: AdmitDeps['starts'];
  /** The deployed config, read at each execution. */
  readonly config: () => MlcycleConfig;
}

/** The Admit state's Parameters: the raw execution input and the execution's own id and name. */
const eventSchema = z.object({
  input: z.unknown(),
  execution: z.object({ arn: z.string().min(1), name: z.string().min(1) }),
});

/** Admit: builds the execution's state from its start record and the deployed config. */
export function makeAdmitHandler(deps: () => AdmitHandlerDeps) {
  return lambdaHandler(logger, correlationIds.execution, async (event: unknown): Promise<PipelineState> => {
    const { input, execution } = parseInput(eventSchema, event, 'Admit input');
    const { starts, config } = deps();
    const state = await admitExecution({ starts, config: config() }, input, execution);
    logger.info('execution admitted', {
      execution: execution.name,
      model: state.model,
      stage: state.stage,
      requestedBy: state.requestedBy,
      trigger: state.trigger,
    });
    return state;
  });
}

export const handler = makeAdmitHandler(
  once((): AdmitHandlerDeps => {
    const env = readEnv(z.object({ [ENV.table]: z.string().min(1), [ENV.configFile]: z.string().min(1) }));
    return { starts: new StartStore(createDocumentClient(), env[ENV.table]), config: () => deployedConfig() };
  }),
);
