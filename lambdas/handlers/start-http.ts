import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { ENV } from '../contracts/env.js';
import type { PipelineRequestInput } from '../contracts/pipeline.js';
import { ValidationError } from '../domain/errors.js';
import { startPipeline } from '../services/pipeline/start.js';
import { authEnvSchema, callerOf } from './kit/caller.js';
import { errorResult, type HttpResult, json, jsonBody } from './kit/http.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';
import { startDeps } from './kit/start-deps.js';

const logger = createLogger('start-http');
const deps = once(() => {
  const env = readEnv(
    registryEnvSchema.and(authEnvSchema).and(z.object({ [ENV.stateMachineArn]: z.string().min(1) })),
  );
  return { env, doc: createDocumentClient() };
});

const runBody = z.strictObject({
  model: z.string(),
  /** @default the model's scheduled stage */
  stage: z.string().optional(),
  dataset: z.string().optional(),
  bump: z.enum(['major', 'minor', 'patch']).optional(),
  version: z.string().optional(),
  reason: z.string().optional(),
});
const promotionBody = z.strictObject({
  model: z.string(),
  version: z.string().min(1),
  stage: z.string(),
  reason: z.string().optional(),
});

/**
 * POST /runs starts a training run, POST /promotions a promotion of an existing version: as the
 * authenticated caller, under the deployed policy. 202 with the execution; 4xx naming what is
 * wrong (unknown model or version, a quorum the caller could never get, …).
 */
export const handler = async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
  try {
    const { env, doc } = deps();
    const config = deployedConfig();
    const caller = callerOf(event, env[ENV.authMode], config);
    const body = jsonBody(event);
    let request: PipelineRequestInput;
    if (event.routeKey === 'POST /promotions') {
      const p = parseInput(promotionBody, body, 'promotion');
      request = { model: p.model, stage: p.stage, promote: p.version, reason: p.reason ?? '' };
    } else if (event.routeKey === 'POST /runs') {
      const r = parseInput(runBody, body, 'run');
      request = { ...r, stage: r.stage ?? config.models[r.model]?.schedule.stage ?? '' };
    } else throw new ValidationError(`no route ${event.routeKey}`);
    const started = await startPipeline(
      startDeps(
        doc,
        { table: env[ENV.table], bucket: env[ENV.bucket], stateMachineArn: env[ENV.stateMachineArn] },
        config,
      ),
      request,
      { person: caller.person, trigger: 'manual', principal: caller.principal },
    );
    logger.info('execution started', { execution: started.executionName, requestedBy: started.requestedBy });
    return json(202, started);
  } catch (err) {
    return errorResult(err, logger);
  }
};
