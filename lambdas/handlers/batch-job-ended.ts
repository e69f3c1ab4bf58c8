import { SFNClient } from '@aws-sdk/client-sfn';
import { withTransientErrors } from '../adapters/aws-clients.js';
import { batchJobStateChangeSchema } from '../contracts/batch-jobs.js';
import {
  type BatchJobEndedDeps,
  type BatchJobEndedOutcome,
  batchJobEnded,
} from '../services/pipeline/batch-job-ended.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { createLogger, once, parseInput } from './kit/runtime.js';

const logger = createLogger('batch-job-ended');

/**
 * Batch's "Batch Job State Change" event for a lifecycle job that SUCCEEDED or FAILED (the
 * stack's EventBridge rule on the training queue; the local batch runner sends the same event):
 * completes the state that waits for the job (see services/pipeline/batch-job-ended.ts).
 */
export function makeBatchJobEndedHandler(deps: () => BatchJobEndedDeps) {
  return lambdaHandler(
    logger,
    correlationIds.scheduled,
    async (event: unknown): Promise<BatchJobEndedOutcome> => {
      const parsed = parseInput(batchJobStateChangeSchema, event, 'Batch job state change');
      const out = await batchJobEnded(deps(), parsed);
      const job = {
        jobId: parsed.detail.jobId,
        jobName: parsed.detail.jobName,
        status: parsed.detail.status,
      };
      if (out.outcome === 'completed') logger.info('task completed', job);
      else logger.warn('nothing to complete', { ...job, ...out });
      return out;
    },
  );
}

export const handler = makeBatchJobEndedHandler(
  once((): BatchJobEndedDeps => ({ sfn: withTransientErrors(new SFNClient({})) })),
);
