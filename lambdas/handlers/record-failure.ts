import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { alertPublisherFromEnv } from '../adapters/notifier.js';
import { ExecutionFailures } from '../adapters/pipeline/execution-failures.js';
import { Registry } from '../adapters/registry/registry.js';
import { ENV } from '../contracts/env.js';
import { FAILURE_KINDS, runInfoSchema } from '../contracts/pipeline.js';
import { type PipelineFailureDeps, recordFailure } from '../services/pipeline/record-failure.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('record-failure');
const envSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.bucket]: z.string().min(1),
  [ENV.alertTopicArn]: z.string().min(1),
});

/**
 * The RecordFailure state's Parameters: the execution (whose failure is recorded once, and
 * alerted once however often the state is retried) and the lifecycle state at the failure.
 */
export const recordFailureInputSchema = z.object({
  executionArn: z.string().min(1),
  // Lenient about everything but the failure kind: a failure to admit an execution arrives with
  // the raw execution input, whatever it holds, and must still be recorded and alerted.
  state: z.object({
    model: z.string().catch('(unknown model)'),
    stage: z.string().catch('(unknown stage)'),
    promote: z.string().catch(''),
    requestedBy: z.string().catch('(not admitted)'),
    reason: z.string().catch(''),
    failureKind: z.enum(FAILURE_KINDS),
    run: runInfoSchema.optional(),
    registration: z.object({ version: z.string() }).optional(),
    gate: z.unknown().optional(),
    error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
  }),
});

export function makeRecordFailureHandler(deps: () => PipelineFailureDeps) {
  return lambdaHandler(logger, correlationIds.execution, async (event: unknown) => {
    const input = parseInput(recordFailureInputSchema, event, 'RecordFailure input');
    const result = await recordFailure(deps(), input);
    logger.warn('pipeline failure recorded', {
      model: input.state.model,
      kind: input.state.failureKind,
      version: input.state.registration?.version,
      executionArn: input.executionArn,
      alerted: result.notified !== null,
    });
    return result;
  });
}

/**
 * RecordFailure: every failure path of the lifecycle ends here before its Fail state (see
 * services/pipeline/record-failure.ts). Idempotent (the failure record's claim); the ASL
 * retries it with backoff.
 */
export const handler = makeRecordFailureHandler(
  once((): PipelineFailureDeps => {
    const env = readEnv(envSchema);
    const doc = createDocumentClient();
    return {
      registry: new Registry(doc, env[ENV.table]),
      approvals: new ApprovalStore(doc, env[ENV.table]),
      failures: new ExecutionFailures(doc, env[ENV.table]),
      alerts: alertPublisherFromEnv(),
    };
  }),
);
