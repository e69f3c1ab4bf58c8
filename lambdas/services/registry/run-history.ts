import type { Registry } from '../../adapters/registry/registry.js';
import { readHead } from '../../adapters/registry/smoke-sample.js';
import { type S3Objects, s3Uri } from '../../adapters/s3-objects.js';
import { RUN_FILES, RUN_INPUTS, runFileKey } from '../../contracts/s3-layout.js';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import type { ComparableRun } from '../../domain/registry/run-comparison.js';
import type { RunRecord, RunStatus, SweepOfRun, VersionRecord } from '../../domain/registry/types.js';

export interface RunHistoryDeps {
  readonly bucket: string;
  readonly objects: S3Objects;
  readonly registry: Pick<Registry, 'runs' | 'versions' | 'catalog'>;
  /**
   * The configured models: searched too when no model is named (the catalog lists only models
   * with a registered version, so a model's first runs would not be found by id alone).
   */
  readonly models?: readonly string[];
}

/** One run as `runs list` shows it, and the head of `runs show`. */
export interface RunSummary {
  readonly model: string;
  readonly runId: string;
  readonly status: RunRecord['status'];
  readonly stage: string;
  readonly trigger: string;
  readonly requestedBy: string;
  readonly startedAt: string;
  /** Start to the end of training and evaluation (the run's end, or its version's registration). */
  readonly durationSeconds: number | null;
  readonly version: string | null;
  readonly datasetUri: string;
  /** From the version's lineage: a run that registered nothing has none recorded. */
  readonly datasetSha256: string | null;
  readonly parameters: RunRecord['hyperparameters'];
  readonly metrics: Readonly<Record<string, number>>;
  readonly note: string;
  readonly failure: string | null;
  /** Who cancelled it, when and why (`runs cancel`). */
  readonly cancelled: NonNullable<RunRecord['cancelled']> | null;
  readonly logs: string | null;
  /** A sweep's trial: which, whether it was chosen, why its early stopping stopped it. */
  readonly sweep: SweepOfRun | null;
}

export interface RunDetail extends RunSummary {
  readonly overrides: NonNullable<RunRecord['overrides']> | null;
  readonly reportedMetrics: Readonly<Record<string, number>>;
  /** The trainer's per-epoch lines (any metric names), in order. */
  readonly epochs: readonly Readonly<Record<string, number>>[];
  readonly epochsUri: string | null;
}

export interface RunFilter {
  readonly model?: string;
  readonly status?: string;
  readonly since?: Date;
  /** Most recent first, at most this many. @default 50 */
  readonly limit?: number;
}

function summarize(run: RunRecord, version: VersionRecord | undefined): RunSummary {
  const end = run.finishedAt ?? version?.createdAt;
  const duration = end ? (Date.parse(end) - Date.parse(run.startedAt)) / 1000 : null;
  return {
    model: run.model,
    runId: run.runId,
    status: run.status,
    stage: run.stage,
    trigger: run.trigger,
    requestedBy: run.requestedBy,
    startedAt: run.startedAt,
    durationSeconds: duration !== null && Number.isFinite(duration) ? Math.max(0, duration) : null,
    version: run.version ?? null,
    datasetUri: run.datasetUri,
    datasetSha256: version?.lineage.datasetSha256 ?? null,
    parameters: run.hyperparameters,
    metrics: Object.fromEntries(
      Object.entries(run.metrics ?? version?.metrics ?? {}).filter(([, v]) => typeof v === 'number'),
    ) as Record<string, number>,
    note: run.reason,
    failure: run.failure
      ? `${run.failure.kind}: ${run.failure.cause || run.failure.error}`
      : (run.skipped?.reason ?? null),
    cancelled: run.cancelled ?? null,
    logs: run.failure?.logs ?? run.logs ?? null,
    sweep: run.sweep
      ? {
          id: run.sweep.id,
          trial: run.sweep.trial,
          best: Boolean(run.sweep.best),
          stopped: run.sweep.stopped ?? null,
        }
      : null,
  };
}

async function modelsOf(deps: RunHistoryDeps, model?: string): Promise<string[]> {
  if (model) return [model];
  const catalogued = (await deps.registry.catalog.listModels()).map((m) => m.model);
  return [...new Set([...catalogued, ...(deps.models ?? [])])];
}

/** `runs list`: the runs of one model or all, newest first, filtered by status and start time. */
export async function listRuns(deps: RunHistoryDeps, filter: RunFilter = {}): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (const model of await modelsOf(deps, filter.model)) {
    const versions = new Map((await deps.registry.versions.listVersions(model)).map((v) => [v.version, v]));
    const limit = filter.limit ?? 50;
    const query = {
      ...(filter.status ? { status: filter.status as RunStatus } : {}),
      ...(filter.since ? { since: filter.since } : {}),
    };
    for (const run of await deps.registry.runs.listRuns(model, limit, query)) {
      // The key bounds `since` to the second; the start time decides within it.
      if (filter.since && Date.parse(run.startedAt) < filter.since.getTime()) continue;
      out.push(summarize(run, run.version ? versions.get(run.version) : undefined));
    }
  }
  out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  return out.slice(0, filter.limit ?? 50);
}

/** A run by its id, in the given model or (none given) in whichever model has it. */
export async function findRun(deps: RunHistoryDeps, runId: string, model?: string): Promise<RunRecord> {
  for (const m of await modelsOf(deps, model)) {
    const run = await deps.registry.runs.getRun(m, runId);
    if (run) return run;
  }
  throw new NotFoundError(
    `no run ${runId}${model ? ` of ${model}` : ' in any model'}: \`mlcycle runs list${model ? ` --model ${model}` : ''}\` shows the runs`,
  );
}

/**
 * The trainer's per-epoch metrics: output/metrics.jsonl of a contract run (metrics.jsonl of an
 * older one), numeric fields only, at most the first 1 MB.
 */
export async function epochsOf(
  deps: Pick<RunHistoryDeps, 'bucket' | 'objects'>,
  run: Pick<RunRecord, 'model' | 'runId'>,
) {
  // The published file, an older run's, or (a trial still training, or stopped while it trained)
  // the progress copied so far.
  for (const name of [RUN_INPUTS.outputMetrics, RUN_FILES.metrics, RUN_INPUTS.progressMetrics]) {
    const uri = s3Uri(deps.bucket, runFileKey(run.model, run.runId, name));
    const text = await readHead(deps.objects, uri, 1024 * 1024);
    if (text === undefined) continue;
    const epochs = text
      .split('\n')
      .filter((l) => l.trim())
      .flatMap((line) => {
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          return [
            Object.fromEntries(
              Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === 'number'),
            ),
          ];
        } catch {
          return [];
        }
      });
    return { epochs, uri };
  }
  return { epochs: [], uri: null };
}

/** `runs show`: everything about a run, with its per-epoch metrics. */
export async function showRun(deps: RunHistoryDeps, runId: string, model?: string): Promise<RunDetail> {
  const run = await findRun(deps, runId, model);
  const version = run.version ? await deps.registry.versions.getVersion(run.model, run.version) : undefined;
  const { epochs, uri } = await epochsOf(deps, run);
  return {
    ...summarize(run, version),
    overrides: run.overrides ?? null,
    reportedMetrics: version?.reportedMetrics ?? {},
    epochs,
    epochsUri: uri,
  };
}

const SEMVER = /^\d+\.\d+\.\d+$/;

/**
 * What `runs compare` lines up for one reference: a version (`1.2.0`, with --model) by its
 * registry record and the run that trained it, or a run id.
 */
export async function comparable(deps: RunHistoryDeps, ref: string, model?: string): Promise<ComparableRun> {
  if (SEMVER.test(ref)) {
    if (!model) throw new ValidationError(`"${ref}" is a version: name its model with --model`);
    const version = await deps.registry.versions.requireVersion(model, ref);
    const run = version.lineage.runId
      ? await deps.registry.runs.getRun(model, version.lineage.runId)
      : undefined;
    return toComparable(ref, run, version);
  }
  const run = await findRun(deps, ref, model);
  const version = run.version ? await deps.registry.versions.getVersion(run.model, run.version) : undefined;
  return toComparable(ref, run, version);
}

function toComparable(
  label: string,
  run: RunRecord | undefined,
  version: VersionRecord | undefined,
): ComparableRun {
  const summary = run ? summarize(run, version) : undefined;
  return {
    label,
    facts: {
      model: run?.model ?? version?.model ?? null,
      run: run?.runId ?? version?.lineage.runId ?? null,
      version: version?.version ?? run?.version ?? null,
      status: run?.status ?? version?.status ?? null,
      dataset: run?.datasetUri ?? version?.lineage.datasetUri ?? null,
      datasetSha256: version?.lineage.datasetSha256 ?? null,
      codeVersion: version?.lineage.codeVersion ?? null,
      durationSeconds: summary?.durationSeconds ?? null,
    },
    parameters: run?.hyperparameters ?? version?.lineage.hyperparameters ?? {},
    metrics: { ...(version?.metrics ?? {}), ...(run?.metrics ?? {}) },
  };
}
