import { readTrainingSummary } from '../../adapters/pipeline/training-summary.js';
import type { Registry } from '../../adapters/registry/registry.js';
import type { S3Objects } from '../../adapters/s3-objects.js';
import type { RegisterState, Registration } from '../../contracts/pipeline.js';

export interface RegisterDeps {
  readonly objects: S3Objects;
  readonly registry: Pick<Registry, 'stages' | 'versions' | 'runs'>;
}

/**
 * Register's use case: allocates the next semantic version (or the explicit one asked for) and
 * records it with its metrics and full lineage, status `validating` until the gate and
 * approvals decide; the run is marked registered with that version.
 */
export async function registerRun(deps: RegisterDeps, state: RegisterState): Promise<Registration> {
  const { objects, registry } = deps;
  const summary = await readTrainingSummary(objects, state.run.outputUri);
  // The parent is what serves the target stage now: the version this one would replace.
  const serving = await registry.stages.getStage(state.model, state.stage);
  const record = await registry.versions.registerVersion({
    model: state.model,
    ...(state.version ? { version: state.version } : { bump: state.bump }),
    metrics: state.evaluation.metrics,
    lineage: {
      parentVersion: serving?.version ?? null,
      datasetUri: state.run.datasetUri,
      datasetSha256: summary.datasetSha256,
      codeVersion: summary.codeVersion,
      runId: state.run.runId,
      hyperparameters: summary.hyperparameters,
      framework: `${summary.framework}@${summary.frameworkVersion}`,
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
  });
  return { version: record.version, parentVersion: serving?.version ?? null };
}
