import { readTrainingSummary } from '../../adapters/pipeline/training-summary.js';
import type { Registry } from '../../adapters/registry/registry.js';
import { childUri, parseS3Uri, type S3Objects } from '../../adapters/s3-objects.js';
import type { RegisterState, Registration } from '../../contracts/pipeline.js';
import { RUN_FILES, runInputUri } from '../../contracts/s3-layout.js';
import { ConflictError } from '../../domain/errors.js';
import { cancelledBy } from '../../domain/registry/run-cancel.js';

type TrainedLineage = {
  datasetSha256: string;
  codeVersion: string;
  hyperparameters: Record<string, string | number | boolean>;
  framework: string;
};

/**
 * What a run's lineage records of its training: the reference trainer's training summary, or for
 * a contract trainer the dataset's hash, the validated hyperparameters, its model card's
 * framework, and the code version the platform built the job from.
 */
async function trainedLineage(
  objects: S3Objects,
  state: RegisterState,
  platformCodeVersion: string,
): Promise<TrainedLineage> {
  const runUri = state.run.runUri;
  if (!runUri || (await objects.head(parseS3Uri(childUri(state.run.outputUri, RUN_FILES.trainingSummary))))) {
    const summary = await readTrainingSummary(objects, state.run.outputUri);
    return {
      datasetSha256: summary.datasetSha256,
      codeVersion: summary.codeVersion,
      hyperparameters: summary.hyperparameters,
      framework: `${summary.framework}@${summary.frameworkVersion}`,
    };
  }
  const card = await objects
    .getJson<Record<string, unknown>>(parseS3Uri(runInputUri(runUri, 'outputModelCard')))
    .catch(() => ({}) as Record<string, unknown>);
  const training = (card.training ?? {}) as Record<string, unknown>;
  return {
    datasetSha256: await objects.sha256(parseS3Uri(state.run.datasetUri)),
    // The platform knows what code built the job's image; a trainer's own claim is a fallback.
    codeVersion:
      platformCodeVersion !== 'unknown'
        ? platformCodeVersion
        : typeof training.codeVersion === 'string'
          ? training.codeVersion
          : 'unknown',
    hyperparameters: JSON.parse(state.run.hyperparametersJson) as Record<string, string | number | boolean>,
    framework: typeof card.framework === 'string' ? card.framework : 'unknown',
  };
}

export interface RegisterDeps {
  readonly objects: S3Objects;
  /** The code the stack was built from (ENV.codeVersion). @default 'unknown' */
  readonly codeVersion?: string;
  readonly registry: Pick<Registry, 'stages' | 'versions' | 'runs'>;
}

/**
 * Register's use case: allocates the next semantic version (or the explicit one asked for) and
 * records it with its metrics and full lineage, status `validating` until the gate and
 * approvals decide; the run is marked registered with that version.
 */
export async function registerRun(deps: RegisterDeps, state: RegisterState): Promise<Registration> {
  const { objects, registry } = deps;
  // A sweep trial cancelled as PickBest chose it: its execution goes on, but it is no candidate.
  const run = await registry.runs.getRun(state.model, state.run.runId);
  if (run?.status === 'cancelled' && run.cancelled) {
    throw new ConflictError(
      `run ${run.runId} of ${run.model} was ${cancelledBy(run.cancelled)}; nothing is registered`,
    );
  }
  const summary = await trainedLineage(objects, state, deps.codeVersion ?? 'unknown');
  // The parent is what serves the target stage now: the version this one would replace.
  const serving = await registry.stages.getStage(state.model, state.stage);
  const record = await registry.versions.registerVersion({
    model: state.model,
    ...(state.version ? { version: state.version } : { bump: state.bump }),
    metrics: state.evaluation.metrics,
    reportedMetrics: state.evaluation.reportedMetrics,
    lineage: {
      parentVersion: serving?.version ?? null,
      datasetUri: state.run.datasetUri,
      datasetSha256: summary.datasetSha256,
      codeVersion: summary.codeVersion,
      runId: state.run.runId,
      hyperparameters: summary.hyperparameters,
      framework: summary.framework,
      artifactUri: state.evaluation.artifact.uri,
      artifactSha256: state.evaluation.artifact.sha256,
      author: state.requestedBy,
      modelCardUri: state.evaluation.modelCardUri,
    },
  });
  await registry.runs.updateRun(state.model, state.run.runId, {
    status: 'registered',
    version: record.version,
    metrics: state.evaluation.metrics,
    ...(state.train?.logs ? { logs: state.train.logs } : {}),
  });
  return { version: record.version, parentVersion: serving?.version ?? null };
}
