import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll } from 'vitest';
import { ApprovalStore } from '../../../lambdas/adapters/approval/approval-store.js';
import { parseConfig } from '../../../lambdas/adapters/config-file.js';
import { DriftStore } from '../../../lambdas/adapters/drift/drift-store.js';
import type { EmailMessage } from '../../../lambdas/adapters/notifier.js';
import { Registry } from '../../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { makeApprovalHttpHandler } from '../../../lambdas/handlers/approval-http.js';
import { makeRequestApprovalHandler } from '../../../lambdas/handlers/request-approval.js';
import type { TaskCallbacks } from '../../../lambdas/services/approvals/decide.js';
import {
  startTestDynamo,
  startTestS3,
  type TestDynamo,
  type TestS3,
  tableSnapshot,
} from '../../support/emulators.js';

/** A Step Functions client that records the callbacks it is asked to make. */
export class RecordingSfn implements TaskCallbacks {
  readonly calls: (SendTaskSuccessCommand | SendTaskFailureCommand)[] = [];
  /** Optional delay, to widen race windows in concurrency tests. */
  delayMs = 0;
  async send(command: SendTaskSuccessCommand | SendTaskFailureCommand): Promise<unknown> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    this.calls.push(command);
    return {};
  }
  get successes() {
    return this.calls.filter((c) => c instanceof SendTaskSuccessCommand).map((c) => c.input);
  }
  get failures() {
    return this.calls.filter((c) => c instanceof SendTaskFailureCommand).map((c) => c.input);
  }
}

export const BASE_URL = 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/';
export const T0 = new Date('2030-03-01T12:00:00.000Z');
export const REQUESTOR = 'data.scientist@studio.test';
export const APPROVERS = ['a@studio.test', 'b@studio.test', 'c@studio.test'] as const;

export interface ApprovalWorld {
  readonly table: string;
  readonly bucket: string;
  readonly key: Buffer;
  readonly store: ApprovalStore;
  readonly registry: Registry;
  readonly objects: S3Objects;
  /** The model's drift records, which the page's drift section reads. */
  readonly drift: DriftStore;
  /** The page's recent-drift window, as the deployed config's monitoring.approvalPage gives it. */
  readonly driftDeps: { records: DriftStore; window: () => { days: number; batches: number } };
  readonly sfn: RecordingSfn;
  readonly mails: EmailMessage[];
  /** The test's clock: every component reads it. */
  now: Date;
  readonly requestApproval: ReturnType<typeof makeRequestApprovalHandler>;
  readonly http: (e: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
  /** Scans the whole table, sorted, as JSON: equal before and after ⇒ nothing changed. */
  scan(): Promise<string>;
}

/**
 * Starts DynamoDB Local and s3rver for the enclosing suite (beforeAll/afterAll) and builds the
 * approval world on them; returns a getter, valid from the suite's first hook on.
 */
export function useApprovalWorld(): () => { world: ApprovalWorld; dynamo: TestDynamo } {
  let dynamo: TestDynamo | undefined;
  let s3: TestS3 | undefined;
  let world: ApprovalWorld | undefined;
  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
    world = await approvalWorld(dynamo, s3);
  });
  afterAll(async () => {
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  });
  return () => {
    if (!world || !dynamo) throw new Error('the approval world starts in beforeAll');
    return { world, dynamo };
  };
}

export async function approvalWorld(dynamo: TestDynamo, s3: TestS3): Promise<ApprovalWorld> {
  const [table, bucket] = await Promise.all([dynamo.newTable(), s3.newBucket()]);
  const key = Buffer.from('test-signing-key-0123456789abcdef0123456789abcdef');
  const sfn = new RecordingSfn();
  const mails: EmailMessage[] = [];
  const world = {} as { now: Date };
  world.now = T0;
  const clock = () => world.now;
  const store = new ApprovalStore(dynamo.doc, table, clock);
  const registry = new Registry(dynamo.doc, table, clock);
  const objects = new S3Objects(s3.local.client);
  const mailer = {
    async send(m: EmailMessage) {
      mails.push(m);
      return { id: String(mails.length) };
    },
  };
  // The deployed policy of the stage is what each payload's `policy` describes: the suites state
  // "given this policy" that way, and the handler reads it from the config, never the payload.
  let deployed = configWithPolicy(undefined);
  const handleRequest = makeRequestApprovalHandler(() => ({
    store,
    registry,
    config: () => deployed,
    mailer,
    baseUrl: BASE_URL,
    key: async () => key,
    clock,
  }));
  const requestApproval = (event: unknown) => {
    const { policy, ...payload } = event as { policy?: PolicyFixture };
    deployed = configWithPolicy(policy);
    return handleRequest(payload);
  };
  const drift = new DriftStore(dynamo.doc, table);
  const driftDeps = {
    records: drift,
    window: () => {
      const { recentDays, recentBatches } = deployed.monitoring.approvalPage;
      return { days: recentDays, batches: recentBatches };
    },
  };
  const http = makeApprovalHttpHandler(() => ({
    store,
    registry,
    objects,
    bucket,
    sfn,
    key: async () => key,
    clock,
    drift: driftDeps,
  }));
  const scan = () => tableSnapshot(dynamo.doc, table);
  return Object.assign(world, {
    table,
    bucket,
    key,
    store,
    registry,
    objects,
    drift,
    driftDeps,
    sfn,
    mails,
    requestApproval,
    http,
    scan,
  });
}

/** What a suite says the deployed production policy is, beside an Approve payload. */
export interface PolicyFixture {
  readonly approvers: readonly string[];
  readonly quorum: number;
  readonly approvalTimeoutSeconds: number;
  readonly reminderSecondsBeforeExpiry: number;
}

/** A deployed config whose production stage has this policy (2 of the three approvers by default). */
export function configWithPolicy(policy: PolicyFixture | undefined) {
  return parseConfig(
    {
      models: { churn: { target: 'churned' } },
      environments: {
        staging: { approvers: [APPROVERS[0]] },
        production: {
          approvers: [...(policy?.approvers ?? APPROVERS)],
          quorum: policy?.quorum ?? 2,
          approvalTimeoutHours: (policy?.approvalTimeoutSeconds ?? 72 * 3600) / 3600,
          ...(policy?.reminderSecondsBeforeExpiry
            ? { reminderHoursBeforeExpiry: policy.reminderSecondsBeforeExpiry / 3600 }
            : {}),
        },
      },
    },
    'approval test config',
  );
}

/** The Approve state's payload for a version, with a 2-of-3 production policy by default. */
export function approvePayload(
  version: string,
  overrides: {
    taskToken?: string;
    approvers?: readonly string[];
    quorum?: number;
    timeoutSeconds?: number;
  } = {},
) {
  return {
    taskToken: overrides.taskToken ?? `token-${version}-${Math.random().toString(36).slice(2)}`,
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:mlcycle-lifecycle:run-${version}`,
    model: 'churn',
    stage: 'production',
    version,
    runId: `run-${version}`,
    requestedBy: REQUESTOR,
    reason: 'better recall on new players',
    policy: {
      approvers: overrides.approvers ?? [...APPROVERS],
      quorum: overrides.quorum ?? 2,
      approvalTimeoutSeconds: overrides.timeoutSeconds ?? 72 * 3600,
      reminderSecondsBeforeExpiry: 3600,
    },
    gate: {
      passed: true,
      approvalRequired: true,
      servingVersion: null,
      results: [
        {
          metric: 'auc',
          kind: 'absolute' as const,
          operator: '>=',
          threshold: 0.7,
          value: 0.8123,
          required: true,
          passed: true,
          detail: 'auc 0.8123 >= 0.7000',
        },
      ],
    },
    metrics: { auc: 0.8123, f1: 0.61 },
  };
}

/** Registers a `validating` version of churn, as the Register state does. */
export async function registerVersion(world: ApprovalWorld): Promise<string> {
  const record = await world.registry.versions.registerVersion({
    model: 'churn',
    bump: 'minor',
    metrics: { auc: 0.8123, f1: 0.61 },
    lineage: {
      parentVersion: null,
      datasetUri: `s3://${world.bucket}/datasets/churn/churn.csv`,
      datasetSha256: 'a'.repeat(64),
      codeVersion: 'test',
      runId: 'run',
      hyperparameters: { epochs: 3 },
      framework: 'mlcycle-logreg@1.0.0',
      artifactUri: `s3://${world.bucket}/runs/churn/run/model.json`,
      artifactSha256: 'b'.repeat(64),
      author: REQUESTOR,
    },
  });
  return record.version;
}

/** Requests approval of a fresh version; returns the request id and each approver's link. */
export async function requestFor(
  world: ApprovalWorld,
  overrides: Parameters<typeof approvePayload>[1] = {},
): Promise<{ requestId: string; version: string; links: Map<string, URL> }> {
  const version = await registerVersion(world);
  const sent = world.mails.length;
  const out = await world.requestApproval(approvePayload(version, overrides));
  const links = new Map<string, URL>();
  for (const m of world.mails.slice(sent)) {
    const href = /https:\/\/\S+\/approvals\/\S+/.exec(m.text)?.[0];
    if (href && m.to[0]) links.set(m.to[0], new URL(href));
  }
  return { requestId: out.requestId, version, links };
}

export function linkFor(links: Map<string, URL>, approver: string): URL {
  const url = links.get(approver);
  if (!url) throw new Error(`no link was emailed to ${approver}`);
  return url;
}

const idOf = (url: URL) => decodeURIComponent(url.pathname.split('/').pop() ?? '');

/** An API Gateway HTTP API (payload 2.0) event for GET/HEAD of a link (and its `report` view). */
export function getEvent(
  url: URL | { id: string; t?: string; report?: string },
  method: 'GET' | 'HEAD' = 'GET',
): APIGatewayProxyEventV2 {
  const id = url instanceof URL ? idOf(url) : url.id;
  const t = url instanceof URL ? (url.searchParams.get('t') ?? undefined) : url.t;
  const report = url instanceof URL ? (url.searchParams.get('report') ?? undefined) : url.report;
  const query: Record<string, string> = {
    ...(t === undefined ? {} : { t }),
    ...(report === undefined ? {} : { report }),
  };
  return {
    version: '2.0',
    routeKey: `${method} /approvals/{id}`,
    rawPath: `/approvals/${id}`,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { host: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com' },
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    pathParameters: { id },
    isBase64Encoded: false,
    requestContext: {
      http: { method, path: `/approvals/${id}` },
    } as APIGatewayProxyEventV2['requestContext'],
  };
}

/** A form POST as a browser sends it (base64-encoded, as API Gateway delivers form bodies). */
export function postEvent(id: string, fields: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /approvals/{id}',
    rawPath: `/approvals/${id}`,
    rawQueryString: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    pathParameters: { id },
    body: Buffer.from(new URLSearchParams(fields).toString()).toString('base64'),
    isBase64Encoded: true,
    requestContext: {
      http: { method: 'POST', path: `/approvals/${id}` },
    } as APIGatewayProxyEventV2['requestContext'],
  };
}

/** The hidden fields of the page's decision form (what a browser would post back). */
export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    if (m[1]) out[m[1]] = (m[2] ?? '').replace(/&amp;/g, '&');
  }
  return out;
}

/** Opens the link, then posts the page's form with a decision: the whole browser round trip. */
export async function decideThroughLink(
  world: ApprovalWorld,
  link: URL,
  decision: 'approve' | 'reject',
  comment: string,
) {
  const page = await world.http(getEvent(link));
  if (page.statusCode !== 200) throw new Error(`GET ${link} answered ${page.statusCode}: ${page.body}`);
  return world.http(postEvent(idOf(link), { ...hiddenFields(page.body ?? ''), decision, comment }));
}

export { idOf };
