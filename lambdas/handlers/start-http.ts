import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { ENV } from '../contracts/env.js';
import { type PipelineRequestInput, pipelineRequestSchema } from '../contracts/pipeline.js';
import { ValidationError } from '../domain/errors.js';
import { startPipeline } from '../services/pipeline/start.js';
import { type AuthMode, authEnvSchema, callerOf } from './kit/caller.js';
import { type HttpResult, httpHandler, json, jsonBody } from './kit/http.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';
import { type StartingDeps, startingDeps } from './kit/start-deps.js';

const logger = createLogger('start-http');

export interface StartHttpDeps extends StartingDeps {
  readonly authMode: AuthMode;
}

const runBody = z.strictObject({
  model: z.string(),
  stage: z.string().optional(), // default: the model's scheduled stage
  dataset: z.string().optional(),
  bump: z.enum(['major', 'minor', 'patch']).optional(),
  version: z.string().optional(),
  reason: z.string().optional(),
  overrides: pipelineRequestSchema.shape.overrides, // checked by startPipeline, against the deployed schema
  force: z.boolean().optional(), // train even on the serving version's dataset (PrepareRun decides)
  sweep: z.unknown().optional(), // a sweep spec (contracts/sweep.ts), checked by startPipeline
});
const promotionBody = z.strictObject({
  model: z.string(),
  version: z.string().min(1),
  stage: z.string(),
  reason: z.string().optional(),
  rollout: pipelineRequestSchema.shape.rollout, // a canary start instead of a stage move
});

/**
 * POST /runs starts a training run (or a sweep), POST /promotions a promotion of an existing
 * version (or a rollout of it), as the authenticated caller under the deployed policy: 202 with
 * the execution, or 4xx naming what is wrong.
 */
export function makeStartHttpHandler(deps: () => StartHttpDeps) {
  return httpHandler(logger, async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const { start, config, authMode } = deps();
    const deployed = config();
    const caller = callerOf(event, authMode, deployed);
    const body = jsonBody(event);
    let request: PipelineRequestInput;
    if (event.routeKey === 'POST /promotions') {
      const { version, reason, ...rest } = parseInput(promotionBody, body, 'promotion');
      request = { ...rest, promote: version, reason: reason ?? '' };
    } else if (event.routeKey === 'POST /runs') {
      const r = parseInput(runBody, body, 'run');
      const stage = r.stage ?? deployed.models[r.model]?.schedule.stage ?? '';
      request = { ...r, stage } as PipelineRequestInput;
    } else throw new ValidationError(`no route ${event.routeKey}`);
    const who = { person: caller.person, trigger: 'manual' as const, principal: caller.principal };
    const started = await startPipeline({ ...start, config: deployed }, request, who);
    logger.info('execution started', { execution: started.executionName, requestedBy: started.requestedBy });
    return json(202, started);
  });
}

export const handler = makeStartHttpHandler(
  once((): StartHttpDeps => {
    const env = readEnv(
      registryEnvSchema.and(authEnvSchema).and(z.object({ [ENV.stateMachineArn]: z.string().min(1) })),
    );
    const names = {
      table: env[ENV.table],
      bucket: env[ENV.bucket],
      stateMachineArn: env[ENV.stateMachineArn],
    };
    return { ...startingDeps(createDocumentClient(), names), authMode: env[ENV.authMode] };
  }),
);
