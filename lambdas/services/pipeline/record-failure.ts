import type { ApprovalStore } from '../../adapters/approval/approval-store.js';
import type { AlertPublisher } from '../../adapters/notifier.js';
import type {
  ExecutionFailureRecord,
  ExecutionFailures,
  FailureRecorder,
} from '../../adapters/pipeline/execution-failures.js';
import type { Registry } from '../../adapters/registry/registry.js';
import type { FailureKind } from '../../contracts/pipeline.js';
import {
  type FailureOutcome,
  failedGates,
  failureCause,
  failureOutcome,
} from '../../domain/pipeline/failure-outcome.js';
import { canTransition } from '../../domain/registry/status.js';

/** The lifecycle state as a failure path hands it to RecordFailure (the fields it reads). */
export interface FailedState {
  readonly model: string;
  readonly stage: string;
  readonly requestedBy: string;
  readonly reason: string;
  /** Non-empty for a promotion of an existing version. */
  readonly promote: string;
  readonly failureKind: FailureKind;
  readonly run?: { readonly runId: string };
  readonly registration?: { readonly version: string };
  readonly error?: { readonly Error: string; readonly Cause?: string };
  /** The Gate state's outcome, on a gate failure (its failed required gates are the detail). */
  readonly gate?: unknown;
}

export interface PipelineFailureDeps {
  readonly registry: Pick<Registry, 'runs' | 'versions'>;
  readonly approvals: Pick<ApprovalStore, 'expireForVersion'>;
  readonly failures: Pick<ExecutionFailures, 'claimAlert' | 'markAlerted' | 'releaseAlert'>;
  readonly alerts: AlertPublisher;
  readonly clock?: () => Date;
}

export interface FailureRecordResult {
  readonly kind: FailureKind;
  readonly versionStatus: FailureOutcome['versionStatus'] | null;
  /** The alert's id, or null when this execution had been alerted already. */
  readonly notified: string | null;
  /** The one line the execution's Fail state gives as its cause (what the CLI prints). */
  readonly cause: string;
}

/**
 * RecordFailure: every failure path of the lifecycle ends here before its Fail state. It marks
 * the run failed, the version failed or rejected (legal transitions only), expires a pending
 * approval request, records the failure of the execution and alerts once per execution (a
 * retried RecordFailure does not alert twice). It never touches a stage pointer: what serves
 * stays serving. Idempotent, so the ASL retries it until it succeeds.
 */
export async function recordFailure(
  deps: PipelineFailureDeps,
  input: { readonly executionArn: string; readonly state: FailedState },
): Promise<FailureRecordResult> {
  const { state } = input;
  const now = (deps.clock ?? (() => new Date()))();
  const version = state.registration?.version;
  const found = failureOutcome(state.failureKind, state.error?.Error, state.error?.Cause);
  const outcome =
    state.failureKind === 'gate' && !found.detail ? { ...found, detail: failedGates(state.gate) } : found;

  // A promotion (LoadCandidate) carries the run that trained the version, which ended long ago
  // (or none, for a version registered outside a pipeline): only a run's own failure marks it.
  if (state.run && !state.promote) {
    await deps.registry.runs.updateRun(state.model, state.run.runId, {
      status: 'failed',
      finishedAt: now.toISOString(),
      failure: {
        kind: state.failureKind,
        error: state.error?.Error ?? outcome.summary,
        cause: outcome.detail,
        ...(outcome.logs ? { logs: outcome.logs } : {}),
      },
    });
  }
  // A failed promotion of an existing version (e.g. to production) says nothing against the
  // version where it already serves, so its status stays as it is.
  if (version && !state.promote)
    await settleVersion(deps, state.model, version, outcome.versionStatus, outcome.summary);
  const expired =
    version && (state.failureKind === 'timeout' || state.failureKind === 'approval')
      ? await deps.approvals.expireForVersion(state.model, version, state.stage, outcome.summary)
      : undefined;

  const notified = await alertOnce(
    deps,
    'recordFailure',
    {
      executionArn: input.executionArn,
      model: state.model,
      stage: state.stage,
      kind: state.failureKind,
      summary: outcome.summary,
      detail: outcome.detail,
      ...(state.run && !state.promote ? { runId: state.run.runId } : {}),
      ...(version ? { version } : {}),
    },
    failureMessage(state, outcome, [
      expired ? `The approval request ${expired.requestId} was marked expired.` : '',
      outcome.logs ? `Logs: ${outcome.logs}` : '',
    ]),
  );
  return {
    kind: state.failureKind,
    versionStatus: version ? outcome.versionStatus : null,
    notified,
    cause: failureCause(outcome),
  };
}

/** Moves a registered version to where a failure leaves it, if that is a legal move from where it is. */
export async function settleVersion(
  deps: Pick<PipelineFailureDeps, 'registry'>,
  model: string,
  version: string,
  to: FailureOutcome['versionStatus'],
  reason: string,
): Promise<boolean> {
  const current = await deps.registry.versions.getVersion(model, version);
  if (!current || current.status === to || !canTransition(current.status, to)) return false;
  await deps.registry.versions.transition(model, version, to, reason, 'mlcycle');
  return true;
}

/**
 * Records the failed execution and publishes its alert, once per execution: nothing is sent
 * when it was alerted before or another recorder is alerting now. A failed publish gives the
 * claim back and throws, so the caller's retry (or the other recorder) alerts.
 */
export async function alertOnce(
  deps: Pick<PipelineFailureDeps, 'failures' | 'alerts'>,
  by: FailureRecorder,
  record: ExecutionFailureRecord,
  alert: { readonly subject: string; readonly message: string },
): Promise<string | null> {
  if (!(await deps.failures.claimAlert(record, by))) return null;
  let sent: { id: string };
  try {
    sent = await deps.alerts.publish(alert);
  } catch (err) {
    await deps.failures.releaseAlert(record.executionArn, by).catch(() => undefined);
    throw err;
  }
  await deps.failures.markAlerted(record.executionArn, sent.id);
  return sent.id;
}

/** The alert for a failed run or promotion: what, where, why, and that serving did not change. */
export function failureMessage(
  state: Pick<FailedState, 'model' | 'stage' | 'requestedBy' | 'reason' | 'run' | 'registration'>,
  outcome: Pick<FailureOutcome, 'summary' | 'detail'>,
  extra: readonly string[] = [],
): { subject: string; message: string } {
  const version = state.registration?.version;
  return {
    subject: `[mlcycle] ${state.model}${version ? ` ${version}` : ''} → ${state.stage}: ${outcome.summary}`,
    message: [
      `Model: ${state.model}`,
      `Target stage: ${state.stage}`,
      version ? `Version: ${version}` : 'Version: (not registered)',
      state.run ? `Run: ${state.run.runId}` : '',
      `Requested by: ${state.requestedBy}${state.reason ? ` (${state.reason})` : ''}`,
      `What happened: ${outcome.summary}`,
      outcome.detail ? `Detail: ${outcome.detail}` : '',
      ...extra,
      'The version serving this stage was not changed.',
    ]
      .filter(Boolean)
      .join('\n'),
  };
}
