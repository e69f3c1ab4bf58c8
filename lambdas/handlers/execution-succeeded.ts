import { SFNClient } from '@aws-sdk/client-sfn';
import { Executions } from '../adapters/stepfunctions/executions.js';
import { executionSucceededSchema } from '../contracts/execution-events.js';
import {
  type ExecutionNoticeDeps,
  noticeOfSucceededExecution,
} from '../services/notices/execution-notices.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { noticeDepsFromEnv } from './kit/notices.js';
import { createLogger, once, parseInput } from './kit/runtime.js';

const logger = createLogger('execution-succeeded');

/**
 * The state machine's "Step Functions Execution Status Change" event for an execution that
 * SUCCEEDED (the stack's EventBridge rule; the local engine sends the same event): a deploy or a
 * skipped retrain is noticed once on the configured channels.
 */
export function makeExecutionSucceededHandler(deps: () => ExecutionNoticeDeps) {
  return lambdaHandler(logger, correlationIds.execution, async (event: unknown) => {
    const { detail } = parseInput(executionSucceededSchema, event, 'execution status change');
    const result = await noticeOfSucceededExecution(deps(), {
      executionArn: detail.executionArn,
      ...(detail.output ? { output: detail.output } : {}),
    });
    logger.info('execution succeeded', { executionArn: detail.executionArn, ...result });
    return result;
  });
}

export const handler = makeExecutionSucceededHandler(
  once(
    (): ExecutionNoticeDeps => ({
      ...noticeDepsFromEnv(logger),
      executions: new Executions(new SFNClient({})),
    }),
  ),
);
