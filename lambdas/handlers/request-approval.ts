import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { cachedSigningKey } from '../adapters/approval/signing-key.js';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { type Mailer, mailerFromEnv } from '../adapters/notifier.js';
import { readManifest } from '../adapters/registry/manifest.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { gateOutcomeSchema, metricsSchema } from '../contracts/pipeline.js';
import { approvalEmail } from '../domain/approval/email.js';
import { signLink } from '../domain/approval/signing.js';
import type { ApprovalRequest } from '../domain/approval/types.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';
import { keySourceFrom, signingKeyEnvSchema } from './kit/signing-key-env.js';

const logger = createLogger('request-approval');

/** The Approve state's Payload (see the ASL). */
export const approvalPayloadSchema = z.object({
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
  model: z.string(),
  stage: z.string(),
  version: z.string(),
  runId: z.string(),
  requestedBy: z.string(),
  reason: z.string().default(''),
  policy: z.object({
    approvers: z.array(z.string()).min(1),
    quorum: z.number().int().min(1),
    approvalTimeoutSeconds: z.number().int().min(1),
    reminderSecondsBeforeExpiry: z.number().int().min(0).default(0),
  }),
  gate: gateOutcomeSchema,
  metrics: metricsSchema.partial(),
});

export interface RequestApprovalDeps {
  readonly store: ApprovalStore;
  readonly objects: S3Objects;
  readonly bucket: string;
  readonly mailer: Mailer;
  readonly baseUrl: string;
  readonly key: () => Promise<Buffer>;
  readonly clock?: () => Date;
}

/** Approval links as `<base>approvals/<id>?t=<token>`, whether or not the base ends in `/`. */
export function approvalLink(baseUrl: string, requestId: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/approvals/${requestId}?t=${token}`;
}

/**
 * Invoked by the Approve state with a task token: stores the request and the token server-side,
 * then emails each approver a link of their own. The state waits until the approval callback
 * completes the token, or its timeout ends the wait.
 */
export function makeRequestApprovalHandler(deps: () => RequestApprovalDeps) {
  return async (event: unknown): Promise<{ requestId: string; emailed: string[] }> => {
    const payload = parseInput(approvalPayloadSchema, event, 'Approve payload');
    const d = deps();
    const now = (d.clock ?? (() => new Date()))();
    const expiresAtSeconds = Math.floor(now.getTime() / 1000) + payload.policy.approvalTimeoutSeconds;
    const manifest = await readManifest(d.objects, d.bucket, payload.model, payload.stage);
    const request: ApprovalRequest = {
      requestId: `apr-${randomBytes(9).toString('base64url')}`,
      model: payload.model,
      version: payload.version,
      stage: payload.stage,
      runId: payload.runId,
      requestedBy: payload.requestedBy,
      reason: payload.reason,
      approvers: payload.policy.approvers.map((a) => a.toLowerCase()),
      quorum: payload.policy.quorum,
      status: 'pending',
      createdAt: now.toISOString(),
      expiresAt: new Date(expiresAtSeconds * 1000).toISOString(),
      reminderSecondsBeforeExpiry: payload.policy.reminderSecondsBeforeExpiry,
      taskToken: payload.taskToken,
      executionArn: payload.executionArn,
      gate: payload.gate,
      metrics: payload.metrics,
      serving: manifest
        ? { version: manifest.version, metrics: manifest.metrics, promotedAt: manifest.promotedAt }
        : null,
    };
    await d.store.create(request);
    const key = await d.key();
    const emailed: string[] = [];
    for (const approver of request.approvers) {
      const token = signLink(key, { requestId: request.requestId, approver, expiresAt: expiresAtSeconds });
      await d.mailer.send(
        approvalEmail(request, approver, approvalLink(d.baseUrl, request.requestId, token)),
      );
      emailed.push(approver);
    }
    logger.info('approval requested', {
      requestId: request.requestId,
      model: request.model,
      version: request.version,
    });
    return { requestId: request.requestId, emailed };
  };
}

/** Reminder emails for requests close to expiry, once per request (scheduled). */
export async function sendReminders(d: RequestApprovalDeps, now = new Date()): Promise<string[]> {
  const reminded: string[] = [];
  const key = await d.key();
  for (const request of await d.store.listPending()) {
    if (!request.reminderSecondsBeforeExpiry) continue;
    const remindAt = Date.parse(request.expiresAt) - request.reminderSecondsBeforeExpiry * 1000;
    if (now.getTime() < remindAt || now.toISOString() >= request.expiresAt) continue;
    if (!(await d.store.markReminded(request.requestId))) continue;
    const decided = new Set((await d.store.decisions(request.requestId)).map((x) => x.approver));
    const expiresAt = Math.floor(Date.parse(request.expiresAt) / 1000);
    for (const approver of request.approvers.filter((a) => !decided.has(a))) {
      const token = signLink(key, { requestId: request.requestId, approver, expiresAt });
      await d.mailer.send(
        approvalEmail(request, approver, approvalLink(d.baseUrl, request.requestId, token), true),
      );
    }
    reminded.push(request.requestId);
  }
  return reminded;
}

export const requestApprovalDeps = once((): RequestApprovalDeps => {
  const env = readEnv(
    registryEnvSchema.and(signingKeyEnvSchema).and(z.object({ [ENV.approvalBaseUrl]: z.url() })),
  );
  return {
    store: new ApprovalStore(createDocumentClient(), env[ENV.table]),
    objects: new S3Objects(createS3Client()),
    bucket: env[ENV.bucket],
    mailer: mailerFromEnv(),
    baseUrl: env[ENV.approvalBaseUrl],
    key: cachedSigningKey(keySourceFrom(env)),
  };
});

export const handler = makeRequestApprovalHandler(requestApprovalDeps);
