import { SFNClient } from '@aws-sdk/client-sfn';
import { createDocumentClient, createS3Client, withTransientErrors } from '../adapters/aws-clients.js';
import { Registry } from '../adapters/registry/registry.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { Executions } from '../adapters/stepfunctions/executions.js';
import { ENV } from '../contracts/env.js';
import { pipelineStateSchema, type RunInfo } from '../contracts/pipeline.js';
import { type PrepareRunDeps, prepareRun } from '../services/pipeline/prepare-run.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('prepare-run');

/**
 * PrepareRun: validates the execution input, then resolves the dataset, allocates the run id
 * and records the run (see services/pipeline/prepare-run.ts).
 */
export function makePrepareRunHandler(deps: () => PrepareRunDeps) {
  return lambdaHandler(logger, correlationIds.execution, async (event: unknown): Promise<RunInfo> => {
    const input = parseInput(pipelineStateSchema, event, 'execution state');
    const run = await prepareRun(deps(), input);
    logger.info('run prepared', { model: input.model, runId: run.runId, datasetUri: run.datasetUri });
    return run;
  });
}

export const handler = makePrepareRunHandler(
  once((): PrepareRunDeps => {
    const env = readEnv(registryEnvSchema);
    return {
      bucket: env[ENV.bucket],
      objects: new S3Objects(createS3Client()),
      registry: new Registry(createDocumentClient(), env[ENV.table]),
      executions: new Executions(withTransientErrors(new SFNClient({}))),
    };
  }),
);
