import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { verifyArtifact } from '../adapters/registry/artifact-check.js';
import { publishManifest } from '../adapters/registry/manifest.js';
import { RegistryStore } from '../adapters/registry/registry-store.js';
import { childUri, parseS3Uri, S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { type ClientManifest, manifestKey } from '../contracts/manifest.js';
import { smokeTest } from '../domain/ml/smoke-test.js';
import { isStageChange } from '../domain/registry/types.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';
import { approvedStateSchema } from './kit/state.js';

const logger = createLogger('deploy');
const deps = once(() => {
  const env = readEnv(registryEnvSchema);
  return {
    bucket: env[ENV.bucket],
    objects: new S3Objects(createS3Client()),
    store: new RegistryStore(createDocumentClient(), env[ENV.table]),
  };
});

export interface DeployResult {
  readonly version: string;
  readonly previousVersion: string | null;
  readonly ledgerSeq: number;
  readonly manifestKey: string;
  readonly validation: { sha256: string; size: number; smokePredictions: number[] };
}

/**
 * Deploy: validates the candidate (artifact exists, checksum matches the registry, the model
 * loads and predicts on held-out rows), then moves the stage pointer and appends the ledger
 * entry in one transaction, then publishes the client manifest. A retry after a partial
 * failure finds the pointer already moved and only republishes the manifest.
 */
export const handler = async (event: unknown): Promise<DeployResult> => {
  const state = parseInput(approvedStateSchema, event, 'Deploy input');
  const { bucket, objects, store } = deps();
  const { model, stage } = state;
  const version = await store.requireVersion(model, state.registration.version);

  const artifactUri = version.lineage.artifactUri;
  const checked = await verifyArtifact(objects, artifactUri, version.lineage.artifactSha256);
  const holdout = await objects.getText(parseS3Uri(childUri(state.run.outputUri, 'holdout.csv')));
  const smokePredictions = smokeTest(await objects.getText(parseS3Uri(artifactUri)), holdout, 5);
  const validation = { sha256: checked.sha256, size: checked.size, smokePredictions };

  const current = await store.getStage(model, stage);
  let entry =
    current?.version === version.version
      ? (await store.history(model, { stage })).find(isStageChange)
      : undefined;
  if (!entry || entry.toVersion !== version.version) {
    entry = await store.promote({
      model,
      stage,
      version: version.version,
      actor: state.requestedBy,
      reason: state.reason || `pipeline run ${state.run.runId}`,
      action: 'promote',
      evidence: { gate: state.gate, approvals: state.approval?.approvedBy ?? [], validation },
    });
  }
  const manifest: ClientManifest = {
    schema: 'mlcycle.manifest/v1',
    model,
    stage,
    version: version.version,
    artifact: { uri: artifactUri, sha256: checked.sha256 },
    metrics: version.metrics,
    promotedAt: entry.at,
    promotedBy: entry.actor,
    ledgerSeq: entry.seq,
    previousVersion: entry.fromVersion,
    action: 'promote',
  };
  await publishManifest(objects, bucket, manifest);
  // A promotion of an existing version has no run of its own: the run in its state is the one
  // that trained the version (or none, for one registered outside a pipeline), and it is not ours
  // to end — failing on it here would report a deploy failure after the stage already moved.
  if (!state.promote) {
    await store.updateRun(model, state.run.runId, {
      status: 'succeeded',
      finishedAt: new Date().toISOString(),
    });
  }
  logger.info('deployed', { model, stage, version: version.version, ledgerSeq: entry.seq });
  return {
    version: version.version,
    previousVersion: entry.fromVersion,
    ledgerSeq: entry.seq,
    manifestKey: manifestKey(model, stage),
    validation,
  };
};
