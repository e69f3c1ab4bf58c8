import { randomBytes } from 'node:crypto';
import type { Registry } from '../../adapters/registry/registry.js';
import { parseS3Uri, type S3Objects, s3Uri } from '../../adapters/s3-objects.js';
import type { PipelineState, RunInfo } from '../../contracts/pipeline.js';
import { datasetsPrefix, runPrefix } from '../../contracts/s3-layout.js';
import { ValidationError } from '../../domain/errors.js';

export interface PrepareRunDeps {
  readonly bucket: string;
  readonly objects: S3Objects;
  readonly registry: Pick<Registry, 'runs'>;
  readonly clock?: () => Date;
}

/** Sortable, unique, and valid in a Batch job name: 20261122T233500Z-1a2b3c. */
export function newRunId(now: Date): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
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
 * PrepareRun's use case: resolves the dataset, allocates the run id and records the run
 * (`training`), returning `$.run` for the Train state.
 */
export async function prepareRun(deps: PrepareRunDeps, input: PipelineState): Promise<RunInfo> {
  const datasetUri = await chooseDataset(deps, input);
  const now = (deps.clock ?? (() => new Date()))();
  const runId = newRunId(now);
  const run: RunInfo = {
    runId,
    datasetUri,
    outputUri: s3Uri(deps.bucket, runPrefix(input.model, runId)),
    hyperparametersJson: JSON.stringify(input.training.hyperparameters),
    excludeCsv: input.training.exclude.join(','),
    holdoutFraction: String(input.training.holdoutFraction),
    startedAt: now.toISOString(),
  };
  await deps.registry.runs.putRun({
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
    startedAt: run.startedAt,
  });
  return run;
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
