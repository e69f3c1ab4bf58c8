import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { Registry } from '../adapters/registry/registry.js';
import type { MlcycleConfig } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import { type DecisionDeps, recordDecision } from '../services/approvals/decide.js';
import { type AuthMode, authEnvSchema, callerOf } from './kit/caller.js';
import { type HttpResult, httpHandler, json, jsonBody } from './kit/http.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('decision-http');

export interface DecisionHttpDeps extends DecisionDeps {
  readonly authMode: AuthMode;
  readonly config: () => MlcycleConfig;
}

const decisionBody = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().default(''),
});
const REQUEST_ID = /^[A-Za-z0-9_-]{6,64}$/;

/**
 * POST /approvals/{id}/decisions: `mlcycle models approve|reject`, as the authenticated caller,
 * through the same decision service an emailed link uses. The CLI never reads task tokens.
 */
export function makeDecisionHttpHandler(deps: () => DecisionHttpDeps) {
  return httpHandler(logger, async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const d = deps();
    const caller = callerOf(event, d.authMode, d.config());
    const requestId = event.pathParameters?.id ?? '';
    if (!REQUEST_ID.test(requestId)) return json(404, { message: `no approval request "${requestId}"` });
    const body = parseInput(decisionBody, jsonBody(event), 'decision');
    const result = await recordDecision(d, {
      requestId,
      approver: caller.person,
      decision: body.decision,
      comment: body.comment,
      via: 'cli',
    });
    logger.info('decision recorded', { requestId, approver: caller.person, outcome: result.outcome });
    return json(200, result);
  });
}

export const handler = makeDecisionHttpHandler(
  once((): DecisionHttpDeps => {
    const env = readEnv(z.object({ [ENV.table]: z.string().min(1) }).and(authEnvSchema));
    const doc = createDocumentClient();
    return {
      authMode: env[ENV.authMode],
      config: () => deployedConfig(),
      store: new ApprovalStore(doc, env[ENV.table]),
      registry: new Registry(doc, env[ENV.table]),
      sfn: new SFNClient({}),
    };
  }),
);
