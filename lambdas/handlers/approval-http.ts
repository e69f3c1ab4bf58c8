import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { cachedSigningKey } from '../adapters/approval/signing-key.js';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { parseS3Uri, S3Objects } from '../adapters/s3-objects.js';
import { type DriftSummary, driftLatestKey } from '../contracts/drift-summary.js';
import { ENV } from '../contracts/env.js';
import { checkLinkAccess, refusalFor } from '../domain/approval/access.js';
import { renderDecisionPage } from '../domain/approval/decision-page.js';
import { messagePage } from '../domain/approval/html.js';
import { formToken, type LinkCheck, verifyFormToken, verifyLink } from '../domain/approval/signing.js';
import type { ApprovalRequest } from '../domain/approval/types.js';
import { type DecisionDeps, type DecisionResult, recordDecision } from '../services/approvals/decide.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, readEnv } from './kit/runtime.js';
import { keySourceFrom, signingKeyEnvSchema } from './kit/signing-key-env.js';

const logger = createLogger('approval-http');

export interface ApprovalHttpDeps extends DecisionDeps {
  readonly objects: S3Objects;
  readonly bucket: string;
  readonly key: () => Promise<Buffer>;
}

type Result = APIGatewayProxyStructuredResultV2;

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

const html = (statusCode: number, body: string): Result => ({ statusCode, headers: HEADERS, body });
const REQUEST_ID = /^[A-Za-z0-9_-]{6,64}$/;
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

function formFields(event: APIGatewayProxyEventV2): URLSearchParams {
  if (!event.body) return new URLSearchParams();
  return new URLSearchParams(
    event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body,
  );
}

/** The candidate's model card: where the Approve state said it is, or beside the run's outputs. */
function modelCardOf(d: ApprovalHttpDeps, request: ApprovalRequest): Promise<Record<string, unknown> | null> {
  if (request.modelCardUri) {
    const loc = parseS3Uri(request.modelCardUri);
    // Only the artifacts bucket is readable by this function (and worth trusting on the page).
    return loc.bucket === d.bucket ? optionalJson(d.objects, loc.bucket, loc.key) : Promise.resolve(null);
  }
  if (!request.runId) return Promise.resolve(null);
  return optionalJson(d.objects, d.bucket, `runs/${request.model}/${request.runId}/model-card.json`);
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
 * and expiry, the approver, separation of duties, an earlier decision and the page's
 * anti-forgery value. Every answer is a self-contained HTML page.
 */
export function makeApprovalHttpHandler(deps: () => ApprovalHttpDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<Result> => {
    const method = event.requestContext.http.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      return {
        ...html(405, messagePage('Not allowed', `${method} is not supported here.`)),
        headers: { ...HEADERS, allow: 'GET, HEAD, POST' },
      };
    }
    const d = deps();
    const now = (d.clock ?? (() => new Date()))();
    const requestId = event.pathParameters?.id ?? '';
    const form = method === 'POST' ? formFields(event) : undefined;
    const token = (form ? form.get('t') : event.queryStringParameters?.t) ?? undefined;

    const request = token && REQUEST_ID.test(requestId) ? await d.store.get(requestId) : undefined;
    const key = request ? await d.key() : undefined;
    let link: LinkCheck = { ok: false, reason: token ? 'malformed' : 'missing' };
    if (request && key) link = verifyLink(key, requestId, request.approvers, token, seconds(now));
    const decisions = link.ok ? await d.store.decisions(requestId) : [];
    const access = checkLinkAccess(request, requestId, link, decisions, now);
    if (!access.ok) return html(access.refusal.status, access.refusal.page);
    if (!request || !key)
      return html(404, messagePage('No such request', `There is no approval request "${requestId}".`));
    const { approver } = access;

    if (method === 'HEAD') return html(200, '');
    if (method === 'GET') {
      const [modelCard, drift] = await Promise.all([
        modelCardOf(d, request),
        optionalJson<DriftSummary>(d.objects, d.bucket, driftLatestKey(request.model)),
      ]);
      return html(
        200,
        renderDecisionPage({
          request,
          decisions,
          approver,
          linkToken: token ?? '',
          formToken: formToken(key, requestId, approver, seconds(now)),
          modelCard,
          drift,
        }),
      );
    }

    const fields = form ?? new URLSearchParams();
    const csrf = verifyFormToken(key, requestId, approver, fields.get('csrf') ?? undefined, seconds(now));
    if (!csrf.ok) {
      return html(
        403,
        messagePage(
          csrf.reason === 'stale' ? 'This page is too old' : 'Form not from this page',
          'Nothing was recorded. Open the emailed link again and decide from that page.',
        ),
      );
    }
    const decision = fields.get('decision');
    if (decision !== 'approve' && decision !== 'reject') {
      return html(
        400,
        messagePage('No decision', `"${decision ?? ''}" is not a decision: choose Approve or Reject.`),
      );
    }
    try {
      const result = await recordDecision(d, {
        requestId,
        approver,
        decision,
        comment: fields.get('comment') ?? '',
        via: 'link',
      });
      logger.info('decision recorded', {
        requestId,
        approver,
        decision,
        outcome: result.outcome,
        delivery: result.delivery,
      });
      const answer = decisionAnswer(result, `${request.model} ${request.version} → ${request.stage}`);
      return html(answer.status, messagePage(answer.title, answer.message, answer.detail));
    } catch (err) {
      const refusal = refusalFor(err, (await d.store.get(requestId)) ?? request);
      return html(refusal.status, refusal.page);
    }
  };
}

/**
 * What the approver is told once their decision is stored: 200 when it stands (still waiting,
 * or the pipeline has its answer), 202 when the pipeline has not confirmed it yet (it is being
 * delivered, with retries), 410 when the pipeline had already ended so nothing will deploy.
 */
function decisionAnswer(
  result: DecisionResult,
  what: string,
): { status: 200 | 202 | 410; title: string; message: string; detail?: string } {
  const yours = `Your decision (${result.decision}) on ${what} was recorded.`;
  const pending =
    result.delivery === 'pending'
      ? ' The pipeline has not confirmed it yet: it is being delivered, and retried until it is.'
      : '';
  if (result.outcome === 'approved') {
    return {
      status: pending ? 202 : 200,
      title: 'Approved: quorum reached, deployment proceeds',
      message: `${yours}${pending}`,
    };
  }
  if (result.outcome === 'rejected') {
    return {
      status: pending ? 202 : 200,
      title: 'Rejected: the promotion is stopped',
      message: `${yours}${pending}`,
    };
  }
  if (result.outcome === 'closed') {
    return {
      status: 410,
      title: 'Recorded, but nothing will deploy',
      message: `${yours} The pipeline run that asked had already ended, so nothing will deploy.`,
      ...(result.note ? { detail: result.note } : {}),
    };
  }
  if (result.outcome === 'waiting') {
    return {
      status: 200,
      title: `Recorded: ${result.approvals} of ${result.needed} approvals`,
      message: yours,
    };
  }
  return { status: 200, title: `Recorded; the request is ${result.outcome}`, message: yours };
}

const defaultDeps = once((): ApprovalHttpDeps => {
  const env = readEnv(registryEnvSchema.and(signingKeyEnvSchema));
  const doc = createDocumentClient();
  return {
    store: new ApprovalStore(doc, env[ENV.table]),
    registry: new RegistryStore(doc, env[ENV.table]),
    objects: new S3Objects(createS3Client()),
    bucket: env[ENV.bucket],
    // The approver waits on the page (the function has 15 s): each callback attempt is bounded,
    // and the decision service retries; what still fails is left to the reconciler.
    sfn: new SFNClient({ maxAttempts: 1, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } }),
    key: cachedSigningKey(keySourceFrom(env)),
  };
});

export const handler = makeApprovalHttpHandler(defaultDeps);
