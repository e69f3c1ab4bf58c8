import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path/posix';
import type { Registry } from '../../adapters/registry/registry.js';
import { childUri } from '../../adapters/s3-objects.js';
import type { PipelineState, RegisteredState } from '../../contracts/pipeline.js';
import { RUN_FILES } from '../../contracts/s3-layout.js';
import { ValidationError } from '../../domain/errors.js';

export interface LoadCandidateDeps {
  readonly registry: Pick<Registry, 'versions' | 'runs'>;
}

const PROMOTABLE = new Set(['validating', 'ready']);

/**
 * LoadCandidate's use case (promotion of an existing version, e.g. staging → production):
 * rebuilds the state the Gate, Approve and Deploy states expect from the version's registry
 * record, so a promotion goes through exactly the same policy as a freshly trained version.
 * `promotionId` is this promotion's own id (the run in the state is the one that trained the
 * version, shared by every promotion of it): Deploy records it in the ledger to deploy at most
 * once per execution.
 */
export async function loadCandidate(
  deps: LoadCandidateDeps,
  input: PipelineState,
): Promise<RegisteredState & { promotionId: string }> {
  const { registry } = deps;
  const version = await registry.versions.requireVersion(input.model, input.promote);
  if (!PROMOTABLE.has(version.status)) {
    throw new ValidationError(
      `${input.model} ${version.version} is ${version.status}; only validating or ready versions can be promoted`,
    );
  }
  const run = version.lineage.runId
    ? await registry.runs.getRun(input.model, version.lineage.runId)
    : undefined;
  const artifactDir = `${dirname(version.lineage.artifactUri)}/`;
  return {
    ...input,
    promotionId: randomUUID(),
    run: {
      runId: version.lineage.runId,
      datasetUri: version.lineage.datasetUri,
      outputUri: artifactDir,
      hyperparametersJson: JSON.stringify(version.lineage.hyperparameters ?? {}),
      excludeCsv: input.training.exclude.join(','),
      holdoutFraction: String(input.training.holdoutFraction),
      startedAt: run?.startedAt ?? version.createdAt,
    },
    evaluation: {
      metrics: version.metrics,
      reportedMetrics: version.reportedMetrics ?? {},
      holdoutRows: 0,
      artifact: { uri: version.lineage.artifactUri, sha256: version.lineage.artifactSha256 },
      modelCardUri: version.lineage.modelCardUri ?? childUri(artifactDir, RUN_FILES.modelCard),
      evaluationUri: childUri(artifactDir, RUN_FILES.evaluation),
    },
    registration: { version: version.version, parentVersion: version.lineage.parentVersion ?? null },
  };
}
