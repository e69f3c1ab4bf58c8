import { z } from 'zod';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { Registry } from '../adapters/registry/registry.js';
import { ENV } from '../contracts/env.js';
import { pipelineStateSchema } from '../contracts/pipeline.js';
import { sweepPlanSchema } from '../contracts/sweep.js';
import {
  type PickBestDeps,
  type PickedState,
  pickBestTrial,
  trialOutcomeSchema,
} from '../services/sweeps/pick-best.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('pick-best');

const inputSchema = pipelineStateSchema.extend({
  sweep: sweepPlanSchema,
  trials: z.array(trialOutcomeSchema).min(1),
});

/** PickBest: the best trial of a sweep goes on to Register (see services/sweeps/pick-best.ts). */
export function makePickBestHandler(deps: () => PickBestDeps) {
  return lambdaHandler(logger, correlationIds.execution, async (event: unknown): Promise<PickedState> => {
    const state = parseInput(inputSchema, event, 'PickBest input');
    const picked = await pickBestTrial(deps(), state);
    logger.info('best trial picked', {
      model: state.model,
      sweep: picked.sweepResult.id,
      best: picked.sweepResult.best,
      runId: picked.run.runId,
    });
    return picked;
  });
}

export const handler = makePickBestHandler(
  once((): PickBestDeps => {
    const env = readEnv(z.object({ [ENV.table]: z.string().min(1) }));
    return { registry: new Registry(createDocumentClient(), env[ENV.table]) };
  }),
);
