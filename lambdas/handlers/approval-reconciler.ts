import { SFNClient } from '@aws-sdk/client-sfn';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { Executions } from '../adapters/stepfunctions/executions.js';
import { ENV } from '../contracts/env.js';
import {
  type ReconcileDeps,
  type ReconcileResult,
  reconcileApprovals,
} from '../services/approvals/reconcile.js';
import { handleExecutionEnded } from '../services/pipeline/execution-ended.js';
import { executionEndedDeps, executionEndedEnvSchema } from './kit/execution-ended-deps.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';
import { scheduledEventSchema } from './kit/scheduled-event.js';

const logger = createLogger('approval-reconciler');

/**
 * Runs on a schedule (the stack's rule; `mlcycle up`'s local scheduler): redelivers the
 * callbacks decided requests still owe Step Functions, and closes requests whose execution has
 * ended (see services/approvals/reconcile.ts).
 */
export function makeApprovalReconcilerHandler(deps: () => ReconcileDeps) {
  return lambdaHandler(
    logger,
    correlationIds.scheduled,
    async (event: unknown): Promise<ReconcileResult & { checkedAt: string }> => {
      const scheduled = parseInput(scheduledEventSchema, event, 'scheduled event');
      const result = await reconcileApprovals(deps());
      const acted = result.delivered.length + result.pending.length + result.closed.length > 0;
      if (acted) logger.warn('approvals reconciled', { scheduledAt: scheduled.time, ...result });
      return { ...result, checkedAt: new Date().toISOString() };
    },
  );
}

export const handler = makeApprovalReconcilerHandler(
  once((): ReconcileDeps => {
    const env = readEnv(executionEndedEnvSchema);
    // Bounded calls: one unreachable endpoint must not use up the run (the next run tries again).
    const sfn = new SFNClient({ requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 } });
    const doc = createDocumentClient();
    const ended = executionEndedDeps(env, { doc, sfn });
    return {
      store: new ApprovalStore(doc, env[ENV.table]),
      sfn,
      executions: new Executions(sfn),
      executionEnded: (e) => handleExecutionEnded(ended, e),
    };
  }),
);
