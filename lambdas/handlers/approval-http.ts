import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { cachedSigningKey } from '../adapters/approval/signing-key.js';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { DriftStore } from '../adapters/drift/drift-store.js';
import { Registry } from '../adapters/registry/registry.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { messagePage } from '../domain/approval/html.js';
import { type LinkDeps, linkDecision, linkPage } from '../services/approvals/link.js';
import { formFields, type HttpResult, html } from './kit/http.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, readEnv } from './kit/runtime.js';
import { keySourceFrom, signingKeyEnvSchema } from './kit/signing-key-env.js';

const logger = createLogger('approval-http');

export type ApprovalHttpDeps = LinkDeps;

/**
 * GET|HEAD /approvals/{id}?t=… renders the decision page and changes nothing; POST
 * /approvals/{id} records a decision (see services/approvals/link.ts). Every answer is a
 * self-contained HTML page.
 */
export function makeApprovalHttpHandler(deps: () => ApprovalHttpDeps) {
  return lambdaHandler(
    logger,
    correlationIds.http,
    async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
      const method = event.requestContext.http.method.toUpperCase();
      const requestId = event.pathParameters?.id ?? '';
      if (method === 'GET' || method === 'HEAD') {
        const { t: token, report } = event.queryStringParameters ?? {};
        const answer = await linkPage(deps(), { requestId, token, head: method === 'HEAD', report });
        return html(answer.status, answer.page);
      }
      if (method === 'POST') {
        const fields = formFields(event);
        const answer = await linkDecision(deps(), { requestId, token: fields.get('t') ?? undefined, fields });
        if (answer.recorded) {
          const { approver, decision, outcome, delivery } = answer.recorded;
          logger.info('decision recorded', { requestId, approver, decision, outcome, delivery });
        }
        return html(answer.status, answer.page);
      }
      const refused = messagePage('Not allowed', `${method} is not supported here.`);
      return html(405, refused, { allow: 'GET, HEAD, POST' });
    },
  );
}

export const handler = makeApprovalHttpHandler(
  once((): ApprovalHttpDeps => {
    const env = readEnv(registryEnvSchema.and(signingKeyEnvSchema));
    const doc = createDocumentClient();
    return {
      store: new ApprovalStore(doc, env[ENV.table]),
      registry: new Registry(doc, env[ENV.table]),
      objects: new S3Objects(createS3Client()),
      bucket: env[ENV.bucket],
      // The approver waits on the page (the function has 15 s): each callback attempt is bounded,
      // and the decision service retries; what still fails is left to the reconciler.
      sfn: new SFNClient({
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
      }),
      key: cachedSigningKey(keySourceFrom(env)),
      drift: {
        records: new DriftStore(doc, env[ENV.table]),
        window: () => {
          const { recentDays, recentBatches } = deployedConfig().monitoring.approvalPage;
          return { days: recentDays, batches: recentBatches };
        },
      },
    };
  }),
);
