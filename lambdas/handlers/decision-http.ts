import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { ENV } from '../contracts/env.js';
import { recordDecision } from '../services/approvals/decide.js';
import { authEnvSchema, callerOf } from './kit/caller.js';
import { errorResult, type HttpResult, json, jsonBody } from './kit/http.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('decision-http');
const deps = once(() => {
  const env = readEnv(z.object({ [ENV.table]: z.string().min(1) }).and(authEnvSchema));
  const doc = createDocumentClient();
  return {
    env,
    store: new ApprovalStore(doc, env[ENV.table]),
    registry: new RegistryStore(doc, env[ENV.table]),
    sfn: new SFNClient({}),
  };
});

const decisionBody = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().default(''),
});
const REQUEST_ID = /^[A-Za-z0-9_-]{6,64}$/;

/**
 * POST /approvals/{id}/decisions: `mlcycle models approve|reject`, as the authenticated caller,
 * through the same decision service an emailed link uses. The CLI never reads task tokens.
 */
export const handler = async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
  try {
    const { env, store, registry, sfn } = deps();
    const caller = callerOf(event, env[ENV.authMode], deployedConfig());
    const requestId = event.pathParameters?.id ?? '';
    if (!REQUEST_ID.test(requestId)) return json(404, { message: `no approval request "${requestId}"` });
    const body = parseInput(decisionBody, jsonBody(event), 'decision');
    const result = await recordDecision(
      { store, registry, sfn },
      { requestId, approver: caller.person, decision: body.decision, comment: body.comment, via: 'cli' },
    );
    logger.info('decision recorded', { requestId, approver: caller.person, outcome: result.outcome });
    return json(200, result);
  } catch (err) {
    return errorResult(err, logger);
  }
};
