import { randomBytes } from 'node:crypto';
import type { Registry } from '../../adapters/registry/registry.js';
import { parseS3Uri, type S3Objects, s3Uri } from '../../adapters/s3-objects.js';
import type { Executions } from '../../adapters/stepfunctions/executions.js';
import type { PipelineState, RunInfo } from '../../contracts/pipeline.js';
import { datasetsPrefix, type RUN_INPUTS, runInputKey, runPrefix } from '../../contracts/s3-layout.js';
import { JOB_VOLUME } from '../../contracts/stager.js';
import { DataError, RetrainSkipped, ValidationError } from '../../domain/errors.js';
import { parseCsv, toCsv } from '../../domain/ml/dataset.js';
import { type SplitSide, splitRows } from '../../domain/ml/split.js';
import { type EndedStatus, executionEndOutcome } from '../../domain/pipeline/failure-outcome.js';
import { type RetrainSkip, retrainSkip } from '../../domain/pipeline/retrain-skip.js';
import { runIdStamp } from '../../domain/registry/run-id.js';
import type { RunRecord } from '../../domain/registry/types.js';

export interface PrepareRunDeps {
  readonly bucket: string;
  readonly objects: S3Objects;
  /** Runs are recorded; the stage pointer and its version's lineage decide a skip. */
  readonly registry: Pick<Registry, 'runs' | 'stages' | 'versions'>;
  /** Whether the execution still runs, once the run is recorded (see closeIfExecutionEnded). */
  readonly executions: Pick<Executions, 'describe'>;
  readonly clock?: () => Date;
}

/** Sortable, unique, and valid in a Batch job name: 20261122T233500Z-1a2b3c. */
export function newRunId(now: Date): string {
  return `${runIdStamp(now)}-${randomBytes(3).toString('hex')}`;
}

/**
 * The dataset a run trains on: the one named (which must exist), else the newest object under
 * datasets/<model>/.
 */
async function chooseDataset(deps: PrepareRunDeps, input: PipelineState): Promise<string> {
  const { bucket, objects } = deps;
  if (input.dataset) {
    if (!(await objects.head(parseS3Uri(input.dataset)))) {
      throw new ValidationError(`dataset ${input.dataset} does not exist; upload it or name another`);
    }
    return input.dataset;
  }
  const prefix = datasetsPrefix(input.model);
  const newest = (await datasetCandidates(objects, bucket, input.model))[0];
  if (!newest) {
    throw new ValidationError(
      `no dataset under ${s3Uri(bucket, prefix)}; upload one there or start the pipeline with a dataset URI`,
    );
  }
  return s3Uri(bucket, newest.key);
}

/**
 * The platform's split (docs/trainer-contract.md): input/train.csv, input/validation.csv (when
 * the model asks for one) and input/holdout-features.csv for the jobs, without the excluded
 * columns; evaluation/holdout-labels.csv (the target alone, same row order) for Evaluate only.
 * Returns the holdout's row count. Refuses a dataset without the target or split key column.
 */
async function writeSplit(
  deps: PrepareRunDeps,
  input: PipelineState,
  runId: string,
  datasetUri: string,
): Promise<{ holdoutRows: number; validationRows: number }> {
  const { target, splitKey, exclude, holdoutFraction, validationFraction, seed } = input.training;
  const table = parseCsv(await deps.objects.getText(parseS3Uri(datasetUri)), datasetUri);
  const known = `(columns: ${table.columns.join(', ')})`;
  if (!table.columns.includes(target)) {
    throw new DataError(
      `dataset ${datasetUri} has no target column ${target} ${known}: fix models.${input.model}.target or the dataset`,
    );
  }
  if (splitKey && !table.columns.includes(splitKey)) {
    throw new DataError(
      `dataset ${datasetUri} has no split key column ${splitKey} ${known}: fix models.${input.model}.evaluation.splitKey or the dataset`,
    );
  }
  const sides = splitRows(table.rows, {
    holdoutFraction,
    validationFraction,
    seed,
    ...(splitKey ? { key: splitKey } : {}),
  });
  const pick = (side: SplitSide) => table.rows.filter((_, i) => sides[i] === side);
  const parts = { train: pick('train'), validation: pick('validation'), holdout: pick('holdout') };
  for (const side of ['train', 'holdout'] as const) {
    if (parts[side].length === 0) {
      throw new DataError(
        `dataset ${datasetUri} leaves the ${side} split empty (${table.rows.length} rows, holdoutFraction ${holdoutFraction}, ` +
          `splitKey ${splitKey || '(none)'}): upload more rows or more distinct key values, or change the fractions`,
      );
    }
  }
  const dropped = new Set(exclude);
  const columns = table.columns.filter((c) => !dropped.has(c));
  const features = columns.filter((c) => c !== target);
  const put = (file: keyof typeof RUN_INPUTS, body: string) =>
    deps.objects.put({ bucket: deps.bucket, key: runInputKey(input.model, runId, file) }, body, 'text/csv');
  await put('train', toCsv(columns, parts.train));
  if (parts.validation.length) await put('validation', toCsv(columns, parts.validation));
  await put('holdoutFeatures', toCsv(features, parts.holdout));
  await put('holdoutLabels', toCsv([target], parts.holdout));
  return { holdoutRows: parts.holdout.length, validationRows: parts.validation.length };
}

/**
 * Whether the run would train on nothing new (domain/pipeline/retrain-skip.ts), from the
 * registry's lineage of the version serving the target stage; the dataset is hashed only when
 * that version records a dataset hash to compare with, and never for a forced run.
 */
async function nothingNew(
  deps: PrepareRunDeps,
  input: PipelineState,
  datasetUri: string,
): Promise<RetrainSkip | null> {
  if (input.force) return null;
  const pointer = await deps.registry.stages.getStage(input.model, input.stage);
  if (!pointer) return null;
  const serving = await deps.registry.versions.getVersion(input.model, pointer.version);
  if (!serving?.lineage.datasetSha256) return null;
  const datasetSha256 = await deps.objects.sha256(parseS3Uri(datasetUri));
  const candidate = {
    model: input.model,
    stage: input.stage,
    datasetUri,
    datasetSha256,
    hyperparameters: input.training.hyperparameters,
  };
  return retrainSkip(candidate, serving, false);
}

/**
 * PrepareRun's use case: resolves the dataset, allocates the run id, splits the dataset into the
 * run's inputs and records the run (`training`), returning `$.run` for the Train state. A run
 * on nothing new (and not forced) is recorded as `skipped` with the reason instead, nothing is
 * written to S3, and RetrainSkipped ends the execution in the ASL's `Skipped` state.
 */
export async function prepareRun(deps: PrepareRunDeps, input: PipelineState): Promise<RunInfo> {
  const datasetUri = await chooseDataset(deps, input);
  const now = (deps.clock ?? (() => new Date()))();
  const runId = newRunId(now);
  // A sweep's trial trains what its plan says (Admit checked it); a sweep is never skipped.
  const hyperparameters = input.trial?.hyperparameters ?? input.training.hyperparameters;
  const skip = input.trial ? null : await nothingNew(deps, input, datasetUri);
  if (skip) {
    await deps.registry.runs.putRun({
      ...runRecord(input, runId, datasetUri, now.toISOString()),
      status: 'skipped',
      finishedAt: now.toISOString(),
      skipped: skip,
    });
    throw new RetrainSkipped(`${skip.reason} (run ${runId})`, { runId, ...skip });
  }
  const { holdoutRows, validationRows } = await writeSplit(deps, input, runId, datasetUri);
  const run: RunInfo = {
    runUri: s3Uri(deps.bucket, runPrefix(input.model, runId)),
    holdoutRows,
    validationPath: validationRows ? JOB_VOLUME.validation : '',
    runId,
    datasetUri,
    outputUri: s3Uri(deps.bucket, runPrefix(input.model, runId)),
    hyperparametersJson: JSON.stringify(hyperparameters),
    excludeCsv: input.training.exclude.join(','),
    holdoutFraction: String(input.training.holdoutFraction),
    startedAt: now.toISOString(),
  };
  await deps.registry.runs.putRun(runRecord(input, runId, datasetUri, run.startedAt));
  await closeIfExecutionEnded(deps, input, runId);
  return run;
}

/**
 * An execution stopped (or failed) while PrepareRun was running goes on without it: its end was
 * handled — requests closed, runs failed, jobs stopped — before this run existed, so nothing
 * would ever end the run. Asked after the run is recorded, Step Functions settles every order:
 * an execution that ends after this answer finds the run when its end is handled. An execution
 * that cannot be described leaves the run as it is (the check must not fail a recorded run).
 */
async function closeIfExecutionEnded(deps: PrepareRunDeps, input: PipelineState, runId: string) {
  const described = await deps.executions.describe(input.execution.arn).catch(() => undefined);
  if (!described || !isEndedStatus(described.status)) return;
  const outcome = executionEndOutcome(described.status, described.error, described.cause);
  await deps.registry.runs.failRunIfActive(
    input.model,
    runId,
    {
      kind: outcome.kind,
      error: described.error ?? described.status,
      cause: outcome.detail || outcome.summary,
    },
    (deps.clock ?? (() => new Date()))().toISOString(),
  );
}

const isEndedStatus = (status: string): status is EndedStatus =>
  status === 'FAILED' || status === 'TIMED_OUT' || status === 'ABORTED';

function runRecord(input: PipelineState, runId: string, datasetUri: string, startedAt: string): RunRecord {
  const trial = input.trial;
  if (trial) {
    return {
      ...runRecord({ ...input, trial: undefined }, runId, datasetUri, startedAt),
      hyperparameters: trial.hyperparameters,
      overrides: trial.overrides,
      sweep: { id: trial.rules.id, trial: trial.index, earlyStopping: trial.rules.earlyStopping },
    };
  }
  return {
    model: input.model,
    runId,
    stage: input.stage,
    status: 'training',
    trigger: input.trigger,
    executionArn: input.execution.arn,
    requestedBy: input.requestedBy,
    reason: input.reason,
    datasetUri,
    hyperparameters: input.training.hyperparameters,
    // Who set what: the overrides beside requestedBy (hyperparameters has them applied).
    ...(input.overrides && Object.keys(input.overrides).length ? { overrides: input.overrides } : {}),
    startedAt,
  };
}

/**
 * The datasets under datasets/<model>/ a run could train on, the one it picks (newest) first:
 * what `mlcycle datasets list` shows, by the same rule.
 */
export async function datasetCandidates(objects: S3Objects, bucket: string, model: string) {
  const candidates = (await objects.list(bucket, datasetsPrefix(model))).filter(
    (o) => o.size > 0 && !o.key.endsWith('/'),
  );
  return candidates.sort(
    (a, b) => b.lastModified.getTime() - a.lastModified.getTime() || (a.key < b.key ? 1 : -1),
  );
}
