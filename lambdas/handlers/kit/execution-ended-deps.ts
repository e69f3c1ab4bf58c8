import { BatchClient } from '@aws-sdk/client-batch';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ApprovalStore } from '../../adapters/approval/approval-store.js';
import { createDocumentClient, withTransientErrors } from '../../adapters/aws-clients.js';
import { alertPublisherFromEnv } from '../../adapters/notifier.js';
import { ExecutionFailures } from '../../adapters/pipeline/execution-failures.js';
import { BatchJobControl } from '../../adapters/pipeline/job-control.js';
import { Registry } from '../../adapters/registry/registry.js';
import { Executions } from '../../adapters/stepfunctions/executions.js';
import { ENV } from '../../contracts/env.js';
import type { ExecutionEndedDeps } from '../../services/pipeline/execution-ended.js';

export const executionEndedEnvSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.alertTopicArn]: z.string().min(1),
  [ENV.jobQueue]: z.string().min(1),
});

/** What the execution-ended use case needs: its handler and the reconciler build the same. */
export function executionEndedDeps(
  env: z.infer<typeof executionEndedEnvSchema>,
  clients: { doc: DynamoDBDocumentClient; sfn: SFNClient; batch?: BatchClient } = {
    doc: createDocumentClient(),
    sfn: new SFNClient({}),
  },
): ExecutionEndedDeps {
  const { doc, sfn } = clients;
  return {
    jobs: new BatchJobControl(clients.batch ?? withTransientErrors(new BatchClient({})), env[ENV.jobQueue]),
    registry: new Registry(doc, env[ENV.table]),
    approvals: new ApprovalStore(doc, env[ENV.table]),
    failures: new ExecutionFailures(doc, env[ENV.table]),
    executions: new Executions(sfn),
    alerts: alertPublisherFromEnv(),
  };
}
