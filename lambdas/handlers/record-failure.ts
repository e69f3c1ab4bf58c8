import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { alertPublisherFromEnv } from '../adapters/notifier.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { ENV } from '../contracts/env.js';
import { FAILURE_KINDS, runInfoSchema } from '../contracts/pipeline.js';
import { failedGates, failureCause, failureOutcome } from '../domain/pipeline/failure-outcome.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';

const logger = createLogger('record-failure');
const envSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.bucket]: z.string().min(1),
  [ENV.alertTopicArn]: z.string().min(1),
});
const deps = once(() => {
  const env = readEnv(envSchema);
  const doc = createDocumentClient();
  return {
    store: new RegistryStore(doc, env[ENV.table]),
    approvals: new ApprovalStore(doc, env[ENV.table]),
    alerts: alertPublisherFromEnv(),
  };
});

/**
 * Lenient about everything but the failure kind: a failure to admit an execution arrives with the
 * raw execution input, whatever it holds, and must still be recorded and alerted.
 */
const failedStateSchema = z.object({
  model: z.string().catch('(unknown model)'),
  stage: z.string().catch('(unknown stage)'),
  promote: z.string().catch(''),
  requestedBy: z.string().catch('(not admitted)'),
  reason: z.string().catch(''),
  failureKind: z.enum(FAILURE_KINDS),
  run: runInfoSchema.optional(),
  registration: z.object({ version: z.string() }).optional(),
  gate: z.unknown().optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});

/**
 * RecordFailure: every failure path of the lifecycle ends here before its Fail state. It marks
 * the run failed, the version failed or rejected (legal transitions only), expires a pending
 * approval request, and notifies. It never touches a stage pointer: what serves stays serving.
 */
export const handler = async (event: unknown) => {
  const state = parseInput(failedStateSchema, event, 'RecordFailure input');
  const { store, approvals, alerts } = deps();
  const version = state.registration?.version;
  const found = failureOutcome(state.failureKind, state.error?.Error, state.error?.Cause);
  const outcome =
    state.failureKind === 'gate' && !found.detail ? { ...found, detail: failedGates(state.gate) } : found;

  // A promotion (LoadCandidate) carries the run that trained the version, which ended long ago
  // (or none, for a version registered outside a pipeline): only a run's own failure marks it.
  if (state.run && !state.promote) {
    await store.updateRun(state.model, state.run.runId, {
      status: 'failed',
      finishedAt: new Date().toISOString(),
      failure: {
        kind: state.failureKind,
        error: state.error?.Error ?? outcome.summary,
        cause: outcome.detail,
      },
    });
  }
  // A failed promotion of an existing version (e.g. to production) says nothing against the
  // version where it already serves, so its status stays as it is.
  if (version && !state.promote) {
    const current = await store.getVersion(state.model, version);
    if (current && current.status !== outcome.versionStatus) {
      await store.transition(state.model, version, outcome.versionStatus, outcome.summary, 'mlcycle');
    }
  }
  const expired =
    version && (state.failureKind === 'timeout' || state.failureKind === 'approval')
      ? await approvals.expireForVersion(state.model, version, state.stage, outcome.summary)
      : undefined;

  const subject = `[mlcycle] ${state.model}${version ? ` ${version}` : ''} → ${state.stage}: ${outcome.summary}`;
  const message = [
    `Model: ${state.model}`,
    `Target stage: ${state.stage}`,
    version ? `Version: ${version}` : 'Version: (not registered)',
    state.run ? `Run: ${state.run.runId}` : '',
    `Requested by: ${state.requestedBy}${state.reason ? ` (${state.reason})` : ''}`,
    `What happened: ${outcome.summary}`,
    outcome.detail ? `Detail: ${outcome.detail}` : '',
    expired ? `The approval request ${expired.requestId} was marked expired.` : '',
    'The version serving this stage was not changed.',
  ]
    .filter(Boolean)
    .join('\n');
  const sent = await alerts.publish({ subject, message });
  logger.warn('pipeline failure recorded', { model: state.model, kind: state.failureKind, version });
  return {
    kind: state.failureKind,
    versionStatus: version ? outcome.versionStatus : null,
    notified: sent.id,
    // The Fail state's cause: what the CLI and the console say about the execution.
    cause: failureCause(outcome),
  };
};
