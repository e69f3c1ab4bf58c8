import type { Executions } from '../../adapters/stepfunctions/executions.js';
import { manifestPath, statusPath, underBase } from '../../contracts/routes.js';
import {
  deployedNotice,
  type Notice,
  type NoticeLinks,
  retrainSkippedNotice,
  type SweepOutcome,
  sweepFinishedNotice,
} from '../../domain/notices/notice.js';
import { type NoticeDeps, type NoticeOutcome, notifyOnce } from './notify.js';

export interface ExecutionNoticeDeps extends NoticeDeps {
  /** Reads the state an execution ended with, when its event did not carry the output. */
  readonly executions: Pick<Executions, 'lastState'>;
  /** The HTTP API's base URL (status) and the client base URL (manifests), both deployed. */
  readonly apiBaseUrl: string;
  readonly clientBaseUrl: string;
}

export interface SucceededExecution {
  readonly executionArn: string;
  /** The execution's output (JSON text), when the event carried it. */
  readonly output?: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

function parse(text: string | undefined): Json | undefined {
  try {
    return text ? obj(JSON.parse(text)) : undefined;
  } catch {
    return undefined;
  }
}

export function noticeLinks(
  deps: Pick<ExecutionNoticeDeps, 'apiBaseUrl' | 'clientBaseUrl'>,
  model: string,
  stage?: string,
): NoticeLinks {
  return {
    status: underBase(deps.apiBaseUrl, statusPath(model)),
    ...(stage ? { manifest: underBase(deps.clientBaseUrl, manifestPath(model, stage)) } : {}),
  };
}

/** The notice a succeeded execution's final state calls for: a deploy, a skipped retrain, or none. */
export function noticeOfState(
  deps: Pick<ExecutionNoticeDeps, 'apiBaseUrl' | 'clientBaseUrl'>,
  executionArn: string,
  state: Json,
): Notice | undefined {
  const model = str(state.model);
  const stage = str(state.stage);
  if (!model || !stage) return undefined;
  const requestedBy = str(state.requestedBy) ?? 'unknown';
  const deployment = obj(state.deployment);
  const version = str(deployment?.version);
  if (deployment && version && typeof deployment.ledgerSeq === 'number') {
    const superseded = obj(deployment.supersededBy);
    const approvedBy = (obj(state.approval)?.approvedBy as unknown[] | undefined) ?? [];
    const deployed = deployedNotice(
      {
        model,
        stage,
        version,
        previousVersion: str(deployment.previousVersion) ?? null,
        ledgerSeq: deployment.ledgerSeq,
        requestedBy,
        reason: str(state.reason) ?? '',
        approvedBy: approvedBy.flatMap((a) => str(obj(a)?.approver) ?? []),
        supersededBy:
          superseded && str(superseded.version) && typeof superseded.ledgerSeq === 'number'
            ? { version: superseded.version as string, ledgerSeq: superseded.ledgerSeq }
            : null,
      },
      noticeLinks(deps, model, stage),
    );
    const sweep = obj(state.sweepResult) as SweepOutcome | undefined;
    return sweep && Array.isArray(sweep.trials)
      ? sweepFinishedNotice(deployed, sweep, version, stage)
      : deployed;
  }
  const skipped = obj(state.skipped);
  if (skipped) {
    return retrainSkippedNotice(
      {
        model,
        stage,
        executionName: executionArn.split(':').pop() ?? executionArn,
        requestedBy,
        cause: str(skipped.Cause) ?? 'the dataset and settings are those of the serving version',
      },
      noticeLinks(deps, model),
    );
  }
  return undefined;
}

/**
 * A lifecycle execution SUCCEEDED (the stack's EventBridge rule; the local engine sends the same
 * event): a deploy or a skipped retrain is told once on the configured channels.
 */
export async function noticeOfSucceededExecution(
  deps: ExecutionNoticeDeps,
  ended: SucceededExecution,
): Promise<{ notice: string | null; outcome: NoticeOutcome | null }> {
  // Step Functions leaves the output out of the event when it is too large: read the history then.
  const state =
    parse(ended.output) ?? (await deps.executions.lastState(ended.executionArn).catch(() => undefined));
  const notice = state ? noticeOfState(deps, ended.executionArn, state) : undefined;
  if (!notice) return { notice: null, outcome: null };
  return { notice: notice.id, outcome: await notifyOnce(deps, notice) };
}
