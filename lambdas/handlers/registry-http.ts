import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { registerExternalVersion } from '../services/registry/register-external.js';
import { rollback } from '../services/registry/rollback.js';
import { callerOf } from './kit/caller.js';
import { type HttpResult, httpHandler, json, jsonBody } from './kit/http.js';
import { createLogger, once, parseInput } from './kit/runtime.js';
import { type StageControlDeps, stageControlDepsFromEnv } from './kit/stage-control-deps.js';

const logger = createLogger('registry-http');

export type RegistryHttpDeps = StageControlDeps;

const rollbackBody = z.strictObject({
  model: z.string(),
  stage: z.string(),
  to: z.string().optional(),
  reason: z.string(),
});

/**
 * The registry's writes from people, as the authenticated caller: POST /rollbacks (by someone
 * the stage's policy allows, to a version that served it before), POST /versions (an artifact
 * trained elsewhere, from the model's run prefix, with reported metrics), and GET /whoami (who
 * the caller is to mlcycle).
 */
export function makeRegistryHttpHandler(deps: () => RegistryHttpDeps) {
  return httpHandler(logger, async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const { authMode, config: deployed, ...adapters } = deps();
    const services = { ...adapters, config: deployed() };
    const caller = callerOf(event, authMode, services.config);
    if (event.routeKey === 'GET /whoami') return json(200, caller);
    if (event.routeKey === 'POST /rollbacks') {
      const { to, ...b } = parseInput(rollbackBody, jsonBody(event), 'rollback');
      const out = await rollback(services, { ...b, ...(to ? { to } : {}), actor: caller.person });
      const { toVersion: to_, actor: by } = out.entry;
      logger.info('rolled back', { model: b.model, stage: b.stage, to: to_, by, cdn: out.invalidation });
      return json(200, out);
    }
    if (event.routeKey === 'POST /versions') {
      const record = await registerExternalVersion(services, jsonBody(event), caller.person);
      logger.info('external version registered', { model: record.model, version: record.version });
      return json(201, record);
    }
    throw new ValidationError(`no route ${event.routeKey}`);
  });
}

export const handler = makeRegistryHttpHandler(once((): RegistryHttpDeps => stageControlDepsFromEnv(logger)));
