import { createS3Client } from '../adapters/aws-clients.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { type EvaluationResult, preparedStateSchema } from '../contracts/pipeline.js';
import { type EvaluateDeps, evaluateRun } from '../services/pipeline/evaluate.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('evaluate');

/** Evaluate: scores the trained artifact on the run's holdout (see services/pipeline/evaluate.ts). */
export function makeEvaluateHandler(deps: () => EvaluateDeps) {
  return lambdaHandler(
    logger,
    correlationIds.execution,
    async (event: unknown): Promise<EvaluationResult> => {
      const state = parseInput(preparedStateSchema, event, 'Evaluate input');
      const result = await evaluateRun(deps(), state);
      logger.info('evaluated', { model: state.model, runId: state.run.runId, metrics: result.metrics });
      return result;
    },
  );
}

export const handler = makeEvaluateHandler(
  once((): EvaluateDeps => {
    readEnv(registryEnvSchema);
    return { objects: new S3Objects(createS3Client()) };
  }),
);
