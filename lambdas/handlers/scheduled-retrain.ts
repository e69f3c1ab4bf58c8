import { z } from 'zod';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { ENV } from '../contracts/env.js';
import { scheduledRetrainEventSchema } from '../contracts/retrain-schedules.js';
import { startPipeline } from '../services/pipeline/start.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';
import { type StartingDeps, startingDeps } from './kit/start-deps.js';

const logger = createLogger('scheduled-retrain');

/** The schedule asks as the platform itself, never as a person. */
export const SCHEDULE_REQUESTOR = 'mlcycle-schedule';

/**
 * A model's weekly retrain, from its EventBridge rule (and the local scheduler): started through
 * the same service as a person's run, to the model's scheduled stage in the deployed config.
 */
export function makeScheduledRetrainHandler(deps: () => StartingDeps) {
  return lambdaHandler(logger, correlationIds.scheduled, async (event: unknown) => {
    const { model } = parseInput(scheduledRetrainEventSchema, event, 'scheduled retrain event');
    const { start, config } = deps();
    const deployed = config();
    const started = await startPipeline(
      { ...start, config: deployed },
      { model, stage: deployed.models[model]?.schedule.stage ?? '', reason: 'scheduled retrain' },
      { person: SCHEDULE_REQUESTOR, trigger: 'schedule', principal: null },
    );
    logger.info('scheduled retrain started', { model, execution: started.executionName });
    return { executionArn: started.executionArn };
  });
}

export const handler = makeScheduledRetrainHandler(
  once(() => {
    const env = readEnv(registryEnvSchema.and(z.object({ [ENV.stateMachineArn]: z.string().min(1) })));
    return startingDeps(createDocumentClient(), {
      table: env[ENV.table],
      bucket: env[ENV.bucket],
      stateMachineArn: env[ENV.stateMachineArn],
    });
  }),
);
