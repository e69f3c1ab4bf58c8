import { z } from 'zod';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { ENV } from '../contracts/env.js';
import { startPipeline } from '../services/pipeline/start.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';
import { startDeps } from './kit/start-deps.js';

const logger = createLogger('scheduled-retrain');
const deps = once(() => {
  const env = readEnv(registryEnvSchema.and(z.object({ [ENV.stateMachineArn]: z.string().min(1) })));
  return { env, doc: createDocumentClient() };
});

/** The schedule asks as the platform itself, never as a person. */
export const SCHEDULE_REQUESTOR = 'mlcycle-schedule';

/** What each model's retrain rule sends (its EventBridge target input). */
export const scheduledRetrainEventSchema = z.object({ model: z.string().min(1) });

/**
 * A model's weekly retrain, from its EventBridge rule (and the local scheduler): started through
 * the same service as a person's run, to the model's scheduled stage in the deployed config.
 */
export const handler = async (event: unknown) => {
  const { model } = parseInput(scheduledRetrainEventSchema, event, 'scheduled retrain event');
  const { env, doc } = deps();
  const config = deployedConfig();
  const started = await startPipeline(
    startDeps(
      doc,
      { table: env[ENV.table], bucket: env[ENV.bucket], stateMachineArn: env[ENV.stateMachineArn] },
      config,
    ),
    { model, stage: config.models[model]?.schedule.stage ?? '', reason: 'scheduled retrain' },
    { person: SCHEDULE_REQUESTOR, trigger: 'schedule', principal: null },
  );
  logger.info('scheduled retrain started', { model, execution: started.executionName });
  return { executionArn: started.executionArn };
};
