import type { ApprovalStore } from '../../adapters/approval/approval-store.js';
import type { CleanupHistory } from '../../adapters/registry/cleanup-history.js';
import type { Registry } from '../../adapters/registry/registry.js';
import type { S3Objects } from '../../adapters/s3-objects.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { type DriftSummary, driftLatestKey, driftSummarySchema } from '../../contracts/drift-summary.js';
import type { ModelStatus } from '../../contracts/status.js';
import { NotFoundError } from '../../domain/errors.js';
import { nextFireTime } from '../../domain/pipeline/schedule-expression.js';
import type { RunRecord } from '../../domain/registry/types.js';

export interface ModelStatusDeps {
  readonly config: MlcycleConfig;
  readonly registry: Registry;
  readonly approvals: ApprovalStore;
  readonly history: CleanupHistory;
  readonly objects: S3Objects;
  readonly bucket: string;
  readonly clock?: () => Date;
}

const numbers = (m: Readonly<Record<string, unknown>>): Record<string, number> =>
  Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number'));

/** The model's latest drift summary, or null when no batch was checked yet (or it is unreadable). */
async function latestDrift(d: ModelStatusDeps, model: string): Promise<DriftSummary | null> {
  const loc = { bucket: d.bucket, key: driftLatestKey(model) };
  if (!(await d.objects.head(loc))) return null;
  const parsed = driftSummarySchema.safeParse(await d.objects.getJson(loc));
  return parsed.success ? parsed.data : null;
}

function lastRunOf(run: RunRecord | undefined): ModelStatus['lastRun'] {
  if (!run) return null;
  return {
    runId: run.runId,
    status: run.status,
    trigger: run.trigger,
    stage: run.stage,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? null,
    version: run.version ?? null,
    failure: run.failure
      ? { kind: run.failure.kind, error: run.failure.error, cause: run.failure.cause }
      : null,
    skipped: run.skipped?.reason ?? null,
  };
}

/**
 * Where a model stands (contracts/status.ts): read from the registry, the approvals, the drift
 * summary, the cleanup history and the deployed config's schedule. Reads only. A model the
 * deployed config does not name is a NotFoundError listing the ones it does.
 */
export async function modelStatus(d: ModelStatusDeps, model: string): Promise<ModelStatus> {
  const m = d.config.models[model];
  if (!m) {
    throw new NotFoundError(
      `model "${model}" is not in the deployed config (models: ${Object.keys(d.config.models).join(', ')})`,
    );
  }
  const now = (d.clock ?? (() => new Date()))();
  const [pointers, runs, pending, drift, cleanups] = await Promise.all([
    d.registry.stages.listStages(model),
    d.registry.runs.listRuns(model, 1),
    d.approvals.listPending(model),
    latestDrift(d, model),
    d.history.list(model, 1),
  ]);
  const serving = await Promise.all(
    pointers.map(async (p) => ({ p, v: await d.registry.versions.getVersion(model, p.version) })),
  );
  const approvals = await Promise.all(
    pending.map(async (r) => ({
      r,
      n: (await d.approvals.decisions(r.requestId)).filter((x) => x.decision === 'approve').length,
    })),
  );
  const last = cleanups[0];
  return {
    model,
    at: now.toISOString(),
    stages: Object.keys(d.config.environments).map((stage) => {
      const s = serving.find((x) => x.p.stage === stage);
      return {
        stage,
        serving: s
          ? {
              version: s.p.version,
              since: s.p.since,
              metrics: numbers(s.v?.metrics ?? {}),
              ledgerSeq: s.p.ledgerSeq,
            }
          : null,
      };
    }),
    lastRun: lastRunOf(runs[0]),
    nextRetrain: {
      enabled: m.schedule.enabled,
      schedule: m.schedule.retrain,
      stage: m.schedule.stage,
      at: m.schedule.enabled ? nextFireTime(m.schedule.retrain, now).toISOString() : null,
    },
    pendingApprovals: approvals
      .sort((a, b) => a.r.createdAt.localeCompare(b.r.createdAt))
      .map(({ r, n }) => ({
        requestId: r.requestId,
        version: r.version,
        stage: r.stage,
        requestedBy: r.requestedBy,
        createdAt: r.createdAt,
        expiresAt: r.expiresAt,
        approvals: n,
        quorum: r.quorum,
      })),
    drift: drift
      ? {
          checkedAt: drift.checkedAt,
          batchKey: drift.batchKey,
          status: drift.status,
          severity: drift.overallSeverity,
          driftedShare: drift.driftedShare,
          reportUri: drift.reportUri,
          performance: drift.performance ?? null,
        }
      : null,
    lastCleanup: last
      ? {
          at: last.at,
          trigger: last.trigger,
          actor: last.actor,
          archived: last.archived.map((a) => a.version),
          reclaimedBytes: last.reclaimedBytes,
        }
      : null,
  };
}
