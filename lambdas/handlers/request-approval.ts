import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { cachedSigningKey } from '../adapters/approval/signing-key.js';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { mailerFromEnv } from '../adapters/notifier.js';
import { Registry } from '../adapters/registry/registry.js';
import { ENV } from '../contracts/env.js';
import { approvalPayloadSchema } from '../contracts/pipeline.js';
import { type RequestApprovalDeps, requestApproval } from '../services/approvals/request.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';
import { keySourceFrom, signingKeyEnvSchema } from './kit/signing-key-env.js';

const logger = createLogger('request-approval');

/**
 * Invoked by the Approve state with a task token (`lambda:invoke.waitForTaskToken`): stores the
 * request and emails the stage's approvers their links (see services/approvals/request.ts).
 */
export function makeRequestApprovalHandler(deps: () => RequestApprovalDeps) {
  return lambdaHandler(
    logger,
    correlationIds.execution,
    async (event: unknown): Promise<{ requestId: string; emailed: string[] }> => {
      const payload = parseInput(approvalPayloadSchema, event, 'Approve payload');
      const { emailed, ...requested } = await requestApproval(deps(), payload);
      logger.info('approval requested', requested);
      return { requestId: requested.requestId, emailed };
    },
  );
}

export const handler = makeRequestApprovalHandler(
  once((): RequestApprovalDeps => {
    const env = readEnv(
      registryEnvSchema.and(signingKeyEnvSchema).and(z.object({ [ENV.approvalBaseUrl]: z.url() })),
    );
    const doc = createDocumentClient();
    return {
      store: new ApprovalStore(doc, env[ENV.table]),
      registry: new Registry(doc, env[ENV.table]),
      config: () => deployedConfig(),
      mailer: mailerFromEnv(),
      baseUrl: env[ENV.approvalBaseUrl],
      key: cachedSigningKey(keySourceFrom(env)),
    };
  }),
);
