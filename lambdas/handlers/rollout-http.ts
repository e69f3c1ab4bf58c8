import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { abortRolloutAs } from '../services/rollouts/abort.js';
import { rampRollout } from '../services/rollouts/ramp.js';
import { rolloutStatus } from '../services/rollouts/status.js';
import { callerOf } from './kit/caller.js';
import { type HttpResult, httpHandler, json, jsonBody } from './kit/http.js';
import { createLogger, once, parseInput } from './kit/runtime.js';
import { type StageControlDeps, stageControlDepsFromEnv } from './kit/stage-control-deps.js';

const logger = createLogger('rollout-http');

export type RolloutHttpDeps = StageControlDeps;

const rampBody = z.strictObject({ percent: z.number(), reason: z.string().max(500).default('') });
const abortBody = z.strictObject({ reason: z.string().max(500) });

/**
 * Running rollouts, as the authenticated caller (docs/rollouts.md "Running a rollout"): the status
 * with the decision its evidence supports, a ramp (the stage's approvers or rollbackBy), an abort
 * (rollbackBy). Who may, and the policy, come from the deployed config; starting one is a
 * promotion (POST /promotions with `rollout`), so it passes the stage's gates and approvals.
 */
export function makeRolloutHttpHandler(deps: () => RolloutHttpDeps) {
  return httpHandler(logger, async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const { authMode, config: deployed, ...adapters } = deps();
    const d = { ...adapters, config: deployed() };
    const caller = callerOf(event, authMode, d.config);
    const { model = '', stage = '' } = event.pathParameters ?? {};
    switch (event.routeKey) {
      case 'GET /rollouts/{model}/{stage}':
        return json(200, await rolloutStatus(d, model, stage));
      case 'POST /rollouts/{model}/{stage}/ramp':
      case 'POST /rollouts/{model}/{stage}/abort': {
        const who = { model, stage, actor: caller.person };
        const { rollout, published } = event.routeKey.endsWith('/ramp')
          ? await rampRollout(d, { ...parseInput(rampBody, jsonBody(event), 'ramp'), ...who })
          : await abortRolloutAs(d, { ...parseInput(abortBody, jsonBody(event), 'abort'), ...who });
        logger.info('rollout changed', { route: event.routeKey, id: rollout.rolloutId, by: caller.person });
        return json(200, { rollout, manifest: published.manifest, invalidation: published.invalidation });
      }
      default:
        throw new ValidationError(`no route ${event.routeKey}`);
    }
  });
}

export const handler = makeRolloutHttpHandler(once((): RolloutHttpDeps => stageControlDepsFromEnv(logger)));
