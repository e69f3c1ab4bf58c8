import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { createDocumentClient, withTransientErrors } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { Registry } from '../adapters/registry/registry.js';
import { Executions } from '../adapters/stepfunctions/executions.js';
import type { MlcycleConfig } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import { ValidationError } from '../domain/errors.js';
import { cancelRun } from '../services/pipeline/cancel-run.js';
import { type AuthMode, authEnvSchema, callerOf } from './kit/caller.js';
import { type HttpResult, httpHandler, json, jsonBody } from './kit/http.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('run-control-http');

export interface RunControlHttpDeps {
  readonly authMode: AuthMode;
  readonly config: () => MlcycleConfig;
  readonly registry: Registry;
  readonly executions: Executions;
  readonly approvals: ApprovalStore;
}

const cancelBody = z.strictObject({ reason: z.string() });

/**
 * POST /runs/{model}/{run}/cancel: stops a run, as the authenticated caller, if the deployed
 * config lets them (its requester, its stage's approvers or rollbackBy). 200 with the cancelled
 * run; 403 for anyone else, 404 for an unknown run, 409 for one that has ended.
 */
export function makeRunControlHttpHandler(deps: () => RunControlHttpDeps) {
  return httpHandler(logger, async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const { authMode, config: deployed, ...adapters } = deps();
    const config = deployed();
    const caller = callerOf(event, authMode, config);
    if (event.routeKey !== 'POST /runs/{model}/{run}/cancel') {
      throw new ValidationError(`no route ${event.routeKey}`);
    }
    const { reason } = parseInput(cancelBody, jsonBody(event), 'cancellation');
    const out = await cancelRun(
      { ...adapters, config },
      {
        model: event.pathParameters?.model ?? '',
        runId: event.pathParameters?.run ?? '',
        reason,
        actor: caller.person,
      },
    );
    logger.info('run cancelled', { model: out.model, run: out.runId, by: out.cancelled.by, was: out.was });
    return json(200, out);
  });
}

export const handler = makeRunControlHttpHandler(
  once((): RunControlHttpDeps => {
    const env = readEnv(z.object({ [ENV.table]: z.string().min(1) }).and(authEnvSchema));
    const doc = createDocumentClient();
    return {
      authMode: env[ENV.authMode],
      config: () => deployedConfig(),
      registry: new Registry(doc, env[ENV.table]),
      approvals: new ApprovalStore(doc, env[ENV.table]),
      executions: new Executions(withTransientErrors(new SFNClient({}))),
    };
  }),
);
