import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { cachedSigningKey } from '../adapters/approval/signing-key.js';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { type Mailer, mailerFromEnv } from '../adapters/notifier.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import type { MlcycleConfig } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import { gateOutcomeSchema, metricsSchema } from '../contracts/pipeline.js';
import { approvalEmail } from '../domain/approval/email.js';
import {
  approvalLink,
  buildApprovalRequest,
  expiresAtSeconds,
  normalizeEmail,
  reminderDue,
} from '../domain/approval/request.js';
import { signLink } from '../domain/approval/signing.js';
import type { ApprovalRequest, ServingSnapshot } from '../domain/approval/types.js';
import { requireStage } from '../domain/pipeline/admission.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';
import { keySourceFrom, signingKeyEnvSchema } from './kit/signing-key-env.js';

const logger = createLogger('request-approval');

/** The Approve state's Payload (see the ASL). */
export const approvalPayloadSchema = z.object({
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
  model: z.string().min(1),
  stage: z.string().min(1),
  version: z.string().min(1),
  /** Empty for a version registered outside a pipeline (`mlcycle models register`). */
  runId: z.string(),
  requestedBy: z.string().min(1),
  reason: z.string().default(''),
  gate: gateOutcomeSchema,
  metrics: metricsSchema.partial(),
  modelCardUri: z.string().optional(),
  /**
   * The Approve state's own timeout (its TimeoutSecondsPath), computed by Admit from the same
   * deployed policy this handler reads; passed so the embedded default's engine can enforce it.
   */
  approvalWait: z.object({ timeoutSeconds: z.number().int().min(1) }).optional(),
});

/** What emailing approvers their links needs (requests and reminders alike). */
export interface ApprovalMailDeps {
  readonly store: ApprovalStore;
  readonly mailer: Mailer;
  readonly baseUrl: string;
  readonly key: () => Promise<Buffer>;
}

export interface RequestApprovalDeps extends ApprovalMailDeps {
  readonly registry: RegistryStore;
  /** The deployed config: who approves the stage, how many, for how long. */
  readonly config: () => MlcycleConfig;
  readonly clock?: () => Date;
}

/**
 * What serves the stage now, for the approvers' side-by-side: the registry's stage pointer, the
 * ledger entry that moved it there (who, when) and that version's metrics. Not the public client
 * manifest, which names nobody.
 */
export async function servingSnapshot(
  registry: RegistryStore,
  model: string,
  stage: string,
): Promise<ServingSnapshot | null> {
  const pointer = await registry.getStage(model, stage);
  if (!pointer) return null;
  const [entry, version] = await Promise.all([
    registry.getLedgerEntry(model, stage, pointer.ledgerSeq),
    registry.getVersion(model, pointer.version),
  ]);
  return {
    version: pointer.version,
    metrics: version?.metrics ?? {},
    promotedAt: entry?.at ?? pointer.since,
    promotedBy: entry?.actor ?? '',
  };
}

/**
 * Emails each approver who may decide (everyone listed but the requestor) a link of their own:
 * `<base>/approvals/<id>?t=<approverIndex>.<expiry>.<mac>`. Returns who was emailed.
 */
async function emailApprovers(
  d: ApprovalMailDeps,
  request: ApprovalRequest,
  kind: 'request' | 'reminder',
  skip: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const key = await d.key();
  const requestor = normalizeEmail(request.requestedBy);
  const expiresAt = expiresAtSeconds(request);
  const emailed: string[] = [];
  for (const [index, approver] of request.approvers.entries()) {
    if (approver === requestor || skip.has(approver)) continue;
    const token = signLink(key, { requestId: request.requestId, approver, expiresAt }, index);
    await d.mailer.send(
      approvalEmail(request, approver, approvalLink(d.baseUrl, request.requestId, token), kind),
    );
    emailed.push(approver);
  }
  return emailed;
}

/**
 * Invoked by the Approve state with a task token: stores the request and the token server-side
 * (never in a URL), then emails each approver of the stage (from the deployed config, never the
 * payload) a link of their own. The state waits until the
 * approval callback completes the token, or its timeout ends the wait. A quorum that cannot be
 * reached fails here (ValidationError) instead of waiting for the timeout.
 */
export function makeRequestApprovalHandler(deps: () => RequestApprovalDeps) {
  return async (event: unknown): Promise<{ requestId: string; emailed: string[] }> => {
    const payload = parseInput(approvalPayloadSchema, event, 'Approve payload');
    const d = deps();
    const now = (d.clock ?? (() => new Date()))();
    const env = requireStage(d.config(), payload.stage);
    const serving = await servingSnapshot(d.registry, payload.model, payload.stage);
    const request = buildApprovalRequest(
      {
        ...payload,
        approvers: env.approvers,
        quorum: env.quorum,
        timeoutSeconds: Math.max(1, Math.round(env.approvalTimeoutHours * 3600)),
        reminderSecondsBeforeExpiry: Math.round((env.reminderHoursBeforeExpiry ?? 0) * 3600),
      },
      serving,
      now,
    );
    const created = await d.store.create(request);
    // A redelivered invocation finds its request stored; it sends the same links again rather
    // than risk that the first attempt failed before emailing.
    const stored = created ? request : ((await d.store.get(request.requestId)) ?? request);
    const emailed = await emailApprovers(d, stored, 'request');
    logger.info('approval requested', {
      requestId: stored.requestId,
      model: stored.model,
      version: stored.version,
      stage: stored.stage,
      redelivered: !created,
    });
    return { requestId: stored.requestId, emailed };
  };
}

/**
 * Reminder emails to the approvers who have not decided, once per request, inside its reminder
 * window. The approval-reminders handler runs it on a schedule. Returns the ids of the requests
 * reminded about.
 */
export async function sendReminders(d: ApprovalMailDeps, now = new Date()): Promise<string[]> {
  const reminded: string[] = [];
  for (const request of await d.store.listPending()) {
    if (!reminderDue(request, now)) continue;
    if (!(await d.store.markReminded(request.requestId))) continue;
    const decided = new Set((await d.store.decisions(request.requestId)).map((x) => x.approver));
    await emailApprovers(d, request, 'reminder', decided);
    reminded.push(request.requestId);
  }
  return reminded;
}

export const requestApprovalDeps = once((): RequestApprovalDeps => {
  const env = readEnv(
    registryEnvSchema.and(signingKeyEnvSchema).and(z.object({ [ENV.approvalBaseUrl]: z.url() })),
  );
  const doc = createDocumentClient();
  return {
    store: new ApprovalStore(doc, env[ENV.table]),
    registry: new RegistryStore(doc, env[ENV.table]),
    config: () => deployedConfig(),
    mailer: mailerFromEnv(),
    baseUrl: env[ENV.approvalBaseUrl],
    key: cachedSigningKey(keySourceFrom(env)),
  };
});

export const handler = makeRequestApprovalHandler(requestApprovalDeps);
