import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { alertPublisherFromEnv } from '../adapters/notifier.js';
import { ExecutionFailures } from '../adapters/pipeline/execution-failures.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { Executions } from '../adapters/stepfunctions/executions.js';
import { ENV } from '../contracts/env.js';
import { executionStatusChangeSchema } from '../contracts/execution-events.js';
import {
  type ExecutionEndedDeps,
  type ExecutionEndedResult,
  handleExecutionEnded,
} from '../services/pipeline/execution-ended.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('execution-ended');

export const executionEndedEnvSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.alertTopicArn]: z.string().min(1),
});

/** What the execution-ended use case needs; the reconciler builds the same. */
export function executionEndedDeps(
  env: z.infer<typeof executionEndedEnvSchema>,
  clients: { doc: DynamoDBDocumentClient; sfn: SFNClient } = {
    doc: createDocumentClient(),
    sfn: new SFNClient({}),
  },
): ExecutionEndedDeps {
  const { doc, sfn } = clients;
  return {
    registry: new RegistryStore(doc, env[ENV.table]),
    approvals: new ApprovalStore(doc, env[ENV.table]),
    failures: new ExecutionFailures(doc, env[ENV.table]),
    executions: new Executions(sfn),
    alerts: alertPublisherFromEnv(),
  };
}

/**
 * The state machine's "Step Functions Execution Status Change" event for an execution that
 * FAILED, TIMED_OUT or was ABORTED (the stack's EventBridge rule; the local engine sends the
 * same event when an execution ends): closes its approval requests, fails its run, records and
 * alerts the failure once.
 */
export function makeExecutionEndedHandler(deps: () => ExecutionEndedDeps) {
  return async (event: unknown): Promise<ExecutionEndedResult> => {
    const { detail } = parseInput(executionStatusChangeSchema, event, 'execution status change');
    const result = await handleExecutionEnded(deps(), {
      executionArn: detail.executionArn,
      status: detail.status,
      ...(detail.error ? { error: detail.error } : {}),
      ...(detail.cause ? { cause: detail.cause } : {}),
      ...(detail.input ? { input: detail.input } : {}),
    });
    logger.warn('execution ended', { ...result });
    return result;
  };
}

export const handler = makeExecutionEndedHandler(
  once(() => executionEndedDeps(readEnv(executionEndedEnvSchema))),
);
