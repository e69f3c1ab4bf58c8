import { BatchClient } from '@aws-sdk/client-batch';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { createDocumentClient, withTransientErrors } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { BatchJobControl } from '../adapters/pipeline/job-control.js';
import { StartStore } from '../adapters/pipeline/start-store.js';
import { Registry } from '../adapters/registry/registry.js';
import { Executions } from '../adapters/stepfunctions/executions.js';
import type { MlcycleConfig } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import { ValidationError } from '../domain/errors.js';
import { type CancelRunDeps, cancelRun } from '../services/pipeline/cancel-run.js';
import { type StopSweepDeps, stopSweep } from '../services/sweeps/stop-sweep.js';
import { type AuthMode, authEnvSchema, callerOf } from './kit/caller.js';
import { type HttpResult, httpHandler, json, jsonBody } from './kit/http.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('run-control-http');

/** What `runs cancel` and `sweep stop` use, with the deployed config read per request. */
export interface RunControlHttpDeps extends Omit<CancelRunDeps & StopSweepDeps, 'config' | 'clock'> {
  readonly authMode: AuthMode;
  readonly config: () => MlcycleConfig;
}

const reasonBody = z.strictObject({ reason: z.string() });
const required = z.string().min(1);
const envSchema = z
  .object({ [ENV.table]: required, [ENV.stateMachineArn]: required, [ENV.jobQueue]: required })
  .and(authEnvSchema);

/**
 * POST /runs/{model}/{run}/cancel stops a run, POST /sweeps/{id}/stop a sweep, as the caller, if
 * the deployed config lets them (who asked, the stage's approvers or rollbackBy): 200 with what
 * was cancelled; 403 for anyone else, 404 for an unknown run or sweep, 409 for an ended one.
 */
export function makeRunControlHttpHandler(deps: () => RunControlHttpDeps) {
  return httpHandler(logger, async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const { authMode, config: deployed, ...adapters } = deps();
    const config = deployed();
    const actor = callerOf(event, authMode, config).person;
    const { model = '', run: runId = '', id: sweepId = '' } = event.pathParameters ?? {};
    if (event.routeKey === 'POST /runs/{model}/{run}/cancel') {
      const { reason } = parseInput(reasonBody, jsonBody(event), 'cancellation');
      const out = await cancelRun({ ...adapters, config }, { model, runId, reason, actor });
      logger.info('run cancelled', { model: out.model, run: out.runId, by: out.cancelled.by, was: out.was });
      return json(200, out);
    }
    if (event.routeKey === 'POST /sweeps/{id}/stop') {
      const { reason } = parseInput(reasonBody, jsonBody(event), 'sweep stop');
      const out = await stopSweep({ ...adapters, config }, { sweepId, reason, actor });
      logger.info('sweep stopped', { sweep: out.sweepId, by: actor, trials: out.trialsCancelled.length });
      return json(200, out);
    }
    throw new ValidationError(`no route ${event.routeKey}`);
  });
}

export const handler = makeRunControlHttpHandler(
  once((): RunControlHttpDeps => {
    const env = readEnv(envSchema);
    const doc = createDocumentClient();
    return {
      authMode: env[ENV.authMode],
      config: () => deployedConfig(),
      registry: new Registry(doc, env[ENV.table]),
      approvals: new ApprovalStore(doc, env[ENV.table]),
      starts: new StartStore(doc, env[ENV.table]),
      jobs: new BatchJobControl(withTransientErrors(new BatchClient({})), env[ENV.jobQueue]),
      executions: new Executions(withTransientErrors(new SFNClient({}))),
      stateMachineArn: env[ENV.stateMachineArn],
    };
  }),
);
