import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { type DecisionResult, recordDecision } from '../adapters/approval/decision-service.js';
import { cachedSigningKey } from '../adapters/approval/signing-key.js';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { type DriftSummary, driftLatestKey } from '../contracts/drift-summary.js';
import { ENV } from '../contracts/env.js';
import { renderDecisionPage } from '../domain/approval/decision-page.js';
import { messagePage } from '../domain/approval/html.js';
import { formToken, verifyFormToken, verifyLink } from '../domain/approval/signing.js';
import type { ApprovalRequest } from '../domain/approval/types.js';
import { isMlcycleError } from '../domain/errors.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, readEnv } from './kit/runtime.js';
import { keySourceFrom, signingKeyEnvSchema } from './kit/signing-key-env.js';

const logger = createLogger('approval-http');

export interface ApprovalHttpDeps {
  readonly store: ApprovalStore;
  readonly objects: S3Objects;
  readonly bucket: string;
  readonly sfn: SFNClient;
  readonly key: () => Promise<Buffer>;
  readonly clock?: () => Date;
}

type Result = APIGatewayProxyStructuredResultV2;

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

const html = (statusCode: number, body: string): Result => ({ statusCode, headers: HEADERS, body });

function completedPage(request: ApprovalRequest): Result {
  if (request.status === 'expired') {
    return html(
      410,
      messagePage(
        'This request has expired',
        `The approval window closed at ${request.expiresAt}.`,
        request.outcomeNote ?? '',
      ),
    );
  }
  return html(
    409,
    messagePage(
      `Already ${request.status}`,
      `${request.model} ${request.version} → ${request.stage} was ${request.status}.`,
      request.outcomeNote ?? '',
    ),
  );
}

function formFields(event: APIGatewayProxyEventV2): URLSearchParams {
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  return new URLSearchParams(raw);
}

async function optionalJson<T>(objects: S3Objects, bucket: string, key: string): Promise<T | null> {
  try {
    return (await objects.head({ bucket, key })) ? await objects.getJson<T>({ bucket, key }) : null;
  } catch {
    return null;
  }
}

/**
 * GET|HEAD /approvals/{id}?t=… renders the decision page and changes nothing (mail scanners
 * open every link); POST /approvals/{id} records a decision after checking the link's signature
 * and expiry, the approver, separation of duties, a previous decision and the page's
 * anti-forgery value.
 */
export function makeApprovalHttpHandler(deps: () => ApprovalHttpDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<Result> => {
    const d = deps();
    const now = (d.clock ?? (() => new Date()))();
    const method = event.requestContext.http.method.toUpperCase();
    const requestId = event.pathParameters?.id ?? '';
    const post = method === 'POST' ? formFields(event) : undefined;
    const token = post ? (post.get('t') ?? undefined) : event.queryStringParameters?.t;
    if (!token)
      return html(
        403,
        messagePage('Link incomplete', 'This link carries no signature. Open the link exactly as emailed.'),
      );

    const request = /^[A-Za-z0-9_-]{6,64}$/.test(requestId) ? await d.store.get(requestId) : undefined;
    if (!request)
      return html(404, messagePage('No such request', `There is no approval request "${requestId}".`));
    const key = await d.key();
    const link = verifyLink(key, requestId, token, Math.floor(now.getTime() / 1000));
    if (!link.ok && link.reason !== 'expired') {
      return html(
        403,
        messagePage(
          'Link not valid',
          'This link was altered or is not a link mlcycle sent. Use the link from your email.',
        ),
      );
    }
    if (!link.ok || request.status === 'expired' || now.toISOString() >= request.expiresAt) {
      return html(
        410,
        messagePage(
          'This request has expired',
          `Links for this request stopped working at ${request.expiresAt}.`,
        ),
      );
    }
    const approver = link.claims.approver;
    const decisions = await d.store.decisions(requestId);
    const mine = decisions.find((x) => x.approver === approver.toLowerCase());
    if (mine) {
      return html(
        409,
        messagePage(
          'You already decided',
          `You chose to ${mine.decision} at ${mine.decidedAt}.`,
          mine.comment,
        ),
      );
    }
    if (request.status !== 'pending') return completedPage(request);

    if (method === 'GET' || method === 'HEAD') {
      const modelCard = await optionalJson<Record<string, unknown>>(
        d.objects,
        d.bucket,
        `runs/${request.model}/${request.runId}/model-card.json`,
      );
      const drift = await optionalJson<DriftSummary>(d.objects, d.bucket, driftLatestKey(request.model));
      return html(
        200,
        renderDecisionPage({
          request,
          decisions,
          approver,
          linkToken: token,
          formToken: formToken(key, requestId, approver.toLowerCase(), Math.floor(now.getTime() / 1000)),
          modelCard,
          drift,
        }),
      );
    }
    if (method !== 'POST' || !post)
      return html(405, messagePage('Not allowed', `${method} is not supported here.`));

    if (
      !verifyFormToken(
        key,
        requestId,
        approver.toLowerCase(),
        post.get('csrf') ?? undefined,
        Math.floor(now.getTime() / 1000),
      )
    ) {
      return html(
        403,
        messagePage(
          'Form expired or not from this page',
          'Open the emailed link again and decide from that page.',
        ),
      );
    }
    const decision = post.get('decision');
    if (decision !== 'approve' && decision !== 'reject') {
      return html(
        400,
        messagePage('No decision', `"${decision ?? ''}" is not a decision: choose Approve or Reject.`),
      );
    }
    let result: DecisionResult;
    try {
      result = await recordDecision(
        { store: d.store, sfn: d.sfn, clock: () => now },
        { requestId, approver, decision, comment: post.get('comment') ?? '', via: 'link' },
      );
    } catch (err) {
      if (isMlcycleError(err)) return html(err.status, messagePage('Not recorded', err.message));
      throw err;
    }
    logger.info('decision recorded', { requestId, approver, decision, outcome: result.outcome });
    const headline =
      result.outcome === 'approved'
        ? 'Approved: quorum reached, deployment proceeds'
        : result.outcome === 'rejected'
          ? 'Rejected: the promotion is stopped'
          : `Recorded: ${result.approvals} of ${result.needed} approvals`;
    return html(
      200,
      messagePage(
        headline,
        `Your decision (${decision}) on ${request.model} ${request.version} → ${request.stage} was recorded.`,
      ),
    );
  };
}

const defaultDeps = once((): ApprovalHttpDeps => {
  const env = readEnv(registryEnvSchema.and(signingKeyEnvSchema));
  return {
    store: new ApprovalStore(createDocumentClient(), env[ENV.table]),
    objects: new S3Objects(createS3Client()),
    bucket: env[ENV.bucket],
    sfn: new SFNClient({}),
    key: cachedSigningKey(keySourceFrom(env)),
  };
});

export const handler = makeApprovalHttpHandler(defaultDeps);
