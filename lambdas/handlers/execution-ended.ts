import { executionStatusChangeSchema } from '../contracts/execution-events.js';
import {
  type ExecutionEndedDeps,
  type ExecutionEndedResult,
  handleExecutionEnded,
} from '../services/pipeline/execution-ended.js';
import { executionEndedDeps, executionEndedEnvSchema } from './kit/execution-ended-deps.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('execution-ended');

/**
 * The state machine's "Step Functions Execution Status Change" event for an execution that
 * FAILED, TIMED_OUT or was ABORTED (the stack's EventBridge rule; the local engine sends the
 * same event when an execution ends): closes its approval requests, fails its run, records and
 * alerts the failure once.
 */
export function makeExecutionEndedHandler(deps: () => ExecutionEndedDeps) {
  return lambdaHandler(
    logger,
    correlationIds.execution,
    async (event: unknown): Promise<ExecutionEndedResult> => {
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
    },
  );
}

export const handler = makeExecutionEndedHandler(
  once(() => executionEndedDeps(readEnv(executionEndedEnvSchema))),
);
