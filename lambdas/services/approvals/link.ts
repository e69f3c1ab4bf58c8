import type { DriftStore } from '../../adapters/drift/drift-store.js';
import type { Registry } from '../../adapters/registry/registry.js';
import type { RolloutStore } from '../../adapters/registry/rollouts.js';
import { parseS3Uri, type S3Objects } from '../../adapters/s3-objects.js';
import { driftLatestKey, driftSummarySchema } from '../../contracts/drift-summary.js';
import { RUN_FILES, reportsPrefix, runFileKey } from '../../contracts/s3-layout.js';
import { checkLinkAccess, refusalFor } from '../../domain/approval/access.js';
import { renderDecisionPage } from '../../domain/approval/decision-page.js';
import { lastDays, reportHref } from '../../domain/approval/drift-section.js';
import { messagePage } from '../../domain/approval/html.js';
import { formToken, type LinkCheck, verifyFormToken, verifyLink } from '../../domain/approval/signing.js';
import type { SweepSectionInput } from '../../domain/approval/sweep-section.js';
import type { ApprovalRequest, Decision } from '../../domain/approval/types.js';
import { type RecentWindow, recentDrift, windowStart } from '../../domain/drift/recent.js';
import type { DriftRecord } from '../../domain/drift/record.js';
import { type RolloutStatusView, statusViewOf } from '../../domain/rollouts/status-html.js';
import { trialRow } from '../../domain/sweeps/trial-row.js';
import { sweepRuns } from '../sweeps/check-trial.js';
import { type DecisionDeps, type DecisionResult, recordDecision } from './decide.js';

/** What the emailed link's page needs beside the decision service. */
export interface LinkDeps extends DecisionDeps {
  readonly objects: S3Objects;
  readonly bucket: string;
  readonly key: () => Promise<Buffer>;
  /**
   * The model's drift records, and what "recent" means for the page: the deployed config's
   * monitoring.approvalPage, read on each visit (never from the caller).
   */
  readonly drift: {
    readonly records: Pick<DriftStore, 'listRecords'>;
    readonly window: () => RecentWindow;
  };
  /**
   * The registry: its runs say whether the candidate is a sweep's best trial, and of which
   * trials; with the model's rollouts, a promotion a rollout asked for shows the rollout's evidence.
   */
  readonly registry: DecisionDeps['registry'] &
    Pick<Registry, 'versions' | 'stages' | 'runs'> & { readonly rollouts?: Pick<RolloutStore, 'list'> };
}

/**
 * The evidence of the newest rollout of this stage whose canary is the candidate and that has
 * been decided on (server side: the registry's record, whatever the request says).
 */
async function rolloutEvidenceOf(d: LinkDeps, request: ApprovalRequest): Promise<RolloutStatusView | null> {
  if (!d.registry.rollouts) return null;
  const records = await d.registry.rollouts.list(request.model);
  for (const r of records) {
    if (r.stage !== request.stage || r.canaryVersion !== request.version) continue;
    const view = statusViewOf(r, { checkedAt: r.ended?.at ?? r.promotionRequest?.at ?? r.startedAt });
    if (view) return view;
  }
  return null;
}

/** A page to answer with: its status and a self-contained HTML document. */
export interface LinkAnswer {
  readonly status: number;
  readonly page: string;
  /** The decision this visit recorded, if it recorded one. */
  readonly recorded?: DecisionResult;
}

interface Opened {
  readonly request: ApprovalRequest;
  readonly key: Buffer;
  readonly approver: string;
  readonly decisions: Decision[];
  readonly now: Date;
}

const REQUEST_ID = /^[A-Za-z0-9_-]{6,64}$/;
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * Checks an emailed link: its signature and expiry, the approver it names, the request's state
 * and an earlier decision of theirs. The refusal page says why when it does not open.
 */
async function openLink(
  d: LinkDeps,
  requestId: string,
  token: string | undefined,
): Promise<{ ok: true; opened: Opened } | { ok: false; answer: LinkAnswer }> {
  const now = (d.clock ?? (() => new Date()))();
  const request = token && REQUEST_ID.test(requestId) ? await d.store.get(requestId) : undefined;
  const key = request ? await d.key() : undefined;
  let link: LinkCheck = { ok: false, reason: token ? 'malformed' : 'missing' };
  if (request && key) link = verifyLink(key, requestId, request.approvers, token, seconds(now));
  const decisions = link.ok ? await d.store.decisions(requestId) : [];
  const access = checkLinkAccess(request, requestId, link, decisions, now);
  if (!access.ok) return { ok: false, answer: { status: access.refusal.status, page: access.refusal.page } };
  if (!request || !key) {
    return {
      ok: false,
      answer: {
        status: 404,
        page: messagePage('No such request', `There is no approval request "${requestId}".`),
      },
    };
  }
  return { ok: true, opened: { request, key, approver: access.approver, decisions, now } };
}

async function optionalJson<T>(objects: S3Objects, bucket: string, key: string): Promise<T | null> {
  try {
    return (await objects.head({ bucket, key })) ? await objects.getJson<T>({ bucket, key }) : null;
  } catch {
    return null;
  }
}

/** The candidate's model card: where the Approve state said it is, or beside the run's outputs. */
function modelCardOf(d: LinkDeps, request: ApprovalRequest): Promise<Record<string, unknown> | null> {
  if (request.modelCardUri) {
    const loc = parseS3Uri(request.modelCardUri);
    // Only the artifacts bucket is readable by this function (and worth trusting on the page).
    return loc.bucket === d.bucket ? optionalJson(d.objects, loc.bucket, loc.key) : Promise.resolve(null);
  }
  if (!request.runId) return Promise.resolve(null);
  return optionalJson(d.objects, d.bucket, runFileKey(request.model, request.runId, RUN_FILES.modelCard));
}

/** When the candidate's run is the chosen trial of a sweep: the sweep's trials, for the page. */
async function sweepOf(d: LinkDeps, request: ApprovalRequest): Promise<SweepSectionInput | null> {
  const run = request.runId ? await d.registry.runs.getRun(request.model, request.runId) : undefined;
  const chosenBy = run?.sweep?.chosenBy;
  if (!run?.sweep || !chosenBy) return null;
  const trials = (await sweepRuns(d.registry, request.model, run.sweep.id))
    .map((r) => {
      const { trial, runId, status, parameters, value, reason } = trialRow(r, chosenBy.metric);
      const chosen = runId === run.runId;
      return { trial, runId, status: chosen ? 'chosen' : status, parameters, value, reason, chosen };
    })
    .sort((a, b) => a.trial - b.trial);
  return { id: run.sweep.id, metric: chosenBy.metric, direction: chosenBy.direction, trials };
}

/**
 * GET (or HEAD) of an emailed link: the decision page, with the model card, gate evidence, the
 * comparison with what serves and the model's recent drift (the worst batch of the window beside
 * the latest); with `report`, the HTML report of one of those batches. Changes nothing (mail
 * scanners open every link). HEAD answers the status alone.
 */
export async function linkPage(
  d: LinkDeps,
  visit: { requestId: string; token: string | undefined; head: boolean; report?: string | undefined },
): Promise<LinkAnswer> {
  const open = await openLink(d, visit.requestId, visit.token);
  if (!open.ok) return open.answer;
  if (visit.head && visit.report === undefined) return { status: 200, page: '' };
  const { request, key, approver, decisions, now } = open.opened;
  const window = d.drift.window();
  const records = await d.drift.records.listRecords(request.model, windowStart(now, window));
  if (visit.report !== undefined) {
    const answer = await batchReport(d, request.model, visit.report, records, window);
    return visit.head ? { status: answer.status, page: '' } : answer;
  }
  const [modelCard, latest, rollout, sweep] = await Promise.all([
    modelCardOf(d, request),
    optionalJson<unknown>(d.objects, d.bucket, driftLatestKey(request.model)),
    rolloutEvidenceOf(d, request),
    sweepOf(d, request),
  ]);
  const summary = driftSummarySchema.safeParse(latest);
  const token = visit.token ?? '';
  const page = renderDecisionPage({
    request,
    decisions,
    approver,
    linkToken: token,
    formToken: formToken(key, visit.requestId, approver, seconds(now)),
    modelCard,
    sweep,
    drift: {
      recent: recentDrift(records, now, window),
      summary: summary.success ? summary.data : null,
      reportHref: (batchId) => reportHref(visit.requestId, token, batchId),
    },
    rollout,
  });
  return { status: 200, page };
}

const BATCH_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The HTML report of a batch of the request's model checked in the window, found by its id among
 * the model's drift records; the object read is the one its record names, and only under the
 * model's reports/ prefix of the artifacts bucket. Anything else is a 404 saying what to do.
 */
async function batchReport(
  d: LinkDeps,
  model: string,
  batchId: string,
  records: readonly DriftRecord[],
  window: RecentWindow,
): Promise<LinkAnswer> {
  const record = BATCH_ID.test(batchId)
    ? records.find((r) => r.kind === 'batch' && r.batchId === batchId && r.reportUri)
    : undefined;
  const shown = batchId.length > 64 ? `${batchId.slice(0, 64)}…` : batchId;
  const missing = (message: string): LinkAnswer => ({
    status: 404,
    page: messagePage('No such drift report', message),
  });
  if (!record?.reportUri) {
    return missing(
      `"${shown}" is not a batch of ${model} checked in ${lastDays(window.days)}: open a report from the links on the approval page.`,
    );
  }
  const loc = /^s3:\/\/[^/]+\//.test(record.reportUri) ? parseS3Uri(record.reportUri) : undefined;
  const ours =
    loc?.bucket === d.bucket &&
    loc.key.startsWith(`${reportsPrefix(model)}drift/`) &&
    loc.key.endsWith('.html');
  const html = loc && ours ? await optionalText(d.objects, loc) : null;
  if (html === null) {
    return missing(
      `The report of batch "${shown}" (${record.batchKey}) is not stored at ${record.reportUri}: run "mlcycle drift report ${model}" for the figures.`,
    );
  }
  return { status: 200, page: html };
}

async function optionalText(
  objects: S3Objects,
  loc: { bucket: string; key: string },
): Promise<string | null> {
  try {
    return (await objects.head(loc)) ? await objects.getText(loc) : null;
  } catch {
    return null;
  }
}

/**
 * POST of the decision page's form: after the link's checks, the page's anti-forgery value, then
 * the decision through the one decision service. The page says what became of it.
 */
export async function linkDecision(
  d: LinkDeps,
  form: { requestId: string; token: string | undefined; fields: URLSearchParams },
): Promise<LinkAnswer> {
  const open = await openLink(d, form.requestId, form.token);
  if (!open.ok) return open.answer;
  const { request, key, approver, now } = open.opened;
  const { requestId, fields } = form;
  const csrf = verifyFormToken(key, requestId, approver, fields.get('csrf') ?? undefined, seconds(now));
  if (!csrf.ok) {
    return {
      status: 403,
      page: messagePage(
        csrf.reason === 'stale' ? 'This page is too old' : 'Form not from this page',
        'Nothing was recorded. Open the emailed link again and decide from that page.',
      ),
    };
  }
  const decision = fields.get('decision');
  if (decision !== 'approve' && decision !== 'reject') {
    return {
      status: 400,
      page: messagePage('No decision', `"${decision ?? ''}" is not a decision: choose Approve or Reject.`),
    };
  }
  try {
    const recorded = await recordDecision(d, {
      requestId,
      approver,
      decision,
      comment: fields.get('comment') ?? '',
      via: 'link',
    });
    const answer = decisionAnswer(recorded, `${request.model} ${request.version} → ${request.stage}`);
    return {
      status: answer.status,
      page: messagePage(answer.title, answer.message, answer.detail),
      recorded,
    };
  } catch (err) {
    const refusal = refusalFor(err, (await d.store.get(requestId)) ?? request);
    return { status: refusal.status, page: refusal.page };
  }
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
