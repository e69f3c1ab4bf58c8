import { z } from 'zod';
import { verifyArtifact } from '../../adapters/registry/artifact-check.js';
import { readHead } from '../../adapters/registry/smoke-sample.js';
import { childUri, parseS3Uri, type S3Objects } from '../../adapters/s3-objects.js';
import type { DeployState } from '../../contracts/pipeline.js';
import { RUN_FILES, RUN_INPUTS } from '../../contracts/s3-layout.js';
import { DataError } from '../../domain/errors.js';
import { type LoadedModel, loadModel } from '../../domain/ml/artifact.js';
import { predictOnSample, predictOnSchemaSample } from '../../domain/ml/smoke-test.js';
import type { VersionRecord } from '../../domain/registry/types.js';

/** Rows a smoke test scores. */
const SMOKE_ROWS = 5;

/** What Deploy proved of the candidate, kept in the ledger entry's evidence. */
export const validationSchema = z.object({
  sha256: z.string(),
  size: z.number(),
  smokePredictions: z.array(z.number()),
  smokeSample: z.object({
    source: z.enum(['holdout', 'dataset', 'schema']),
    uri: z.string().nullable(),
    rows: z.number(),
    skipped: z.array(z.object({ uri: z.string(), why: z.string() })),
  }),
});
export type DeployValidation = z.infer<typeof validationSchema>;

/** Where the rows of a smoke test came from, kept with the ledger entry as evidence. */
export interface SmokeSampleInfo {
  /** holdout: the run's held-out rows; dataset: the head of the version's training data; schema: rows built from the artifact's feature schema. */
  readonly source: 'holdout' | 'dataset' | 'schema';
  readonly uri: string | null;
  readonly rows: number;
  /** Samples tried first and passed over, with why (absent, unreadable). */
  readonly skipped: readonly { uri: string; why: string }[];
}

export interface SmokeCandidate {
  readonly source: 'holdout' | 'dataset';
  readonly uri: string;
}

/**
 * The samples a smoke test tries, best first: the held-out rows beside the run outputs (every
 * pipeline-trained version has them), then the head of the version's dataset; without either
 * (an artifact registered outside a pipeline, without its data), rows built from the
 * artifact's own feature schema.
 */
function smokeCandidates(state: DeployState, version: VersionRecord): SmokeCandidate[] {
  const out: SmokeCandidate[] = [
    { source: 'holdout', uri: childUri(state.run.outputUri, RUN_FILES.holdout) },
  ];
  if (version.lineage.datasetUri) out.push({ source: 'dataset', uri: version.lineage.datasetUri });
  return out;
}

/**
 * Proves an artifact loads and predicts: parses it (a corrupt artifact is an
 * ArtifactValidationError whatever the sample), then scores `n` real rows from the first
 * candidate sample that exists and reads as CSV, or, when the version has none (an artifact
 * registered outside a pipeline without its data), `n` rows built from the artifact's own
 * feature schema. Never skipped: there is always a sample.
 */
export async function smokeTestArtifact(
  objects: S3Objects,
  modelText: string,
  candidates: readonly SmokeCandidate[],
  n: number,
): Promise<{ predictions: number[]; sample: SmokeSampleInfo }> {
  const model: LoadedModel = loadModel(modelText);
  const skipped: { uri: string; why: string }[] = [];
  for (const candidate of candidates) {
    if (!candidate.uri.startsWith('s3://')) continue;
    const text = await readHead(objects, candidate.uri);
    if (text === undefined) {
      skipped.push({ uri: candidate.uri, why: 'does not exist' });
      continue;
    }
    let predictions: number[];
    try {
      predictions = predictOnSample(model, text, n, `the ${candidate.source} sample ${candidate.uri}`);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      skipped.push({ uri: candidate.uri, why: err.message });
      continue;
    }
    return {
      predictions,
      sample: { source: candidate.source, uri: candidate.uri, rows: predictions.length, skipped },
    };
  }
  const predictions = predictOnSchemaSample(model, n);
  return { predictions, sample: { source: 'schema', uri: null, rows: predictions.length, skipped } };
}

/** The candidate's artifact exists, hashes to what the registry recorded, loads and predicts. */
export async function validateCandidate(
  objects: S3Objects,
  state: DeployState,
  version: VersionRecord,
): Promise<DeployValidation> {
  const artifactUri = version.lineage.artifactUri;
  const checked = await verifyArtifact(objects, artifactUri, version.lineage.artifactSha256);
  if (artifactUri.endsWith(`/${RUN_INPUTS.modelArchive}`))
    return contractEvidence(objects, artifactUri, checked);
  const smoke = await smokeTestArtifact(
    objects,
    await objects.getText(parseS3Uri(artifactUri)),
    smokeCandidates(state, version),
    SMOKE_ROWS,
  );
  return {
    sha256: checked.sha256,
    size: checked.size,
    smokePredictions: smoke.predictions,
    smokeSample: { ...smoke.sample, skipped: [...smoke.sample.skipped] },
  };
}

/**
 * A contract trainer's artifact (model.tar.gz, any framework): Deploy proves it exists and hashes
 * to what the registry recorded, and keeps as evidence the first predictions its predict entry
 * made on the holdout from these very bytes (the stager verified the same sha256 before running
 * it). The deploy-time predict job on a fresh sample is not wired yet (see the report).
 */
async function contractEvidence(
  objects: S3Objects,
  artifactUri: string,
  checked: { size: number; sha256: string },
): Promise<DeployValidation> {
  const runUri = artifactUri.slice(0, -RUN_INPUTS.modelArchive.length);
  const uri = `${runUri}${RUN_INPUTS.predictions}`;
  const text = await readHead(objects, uri);
  if (text === undefined) {
    throw new DataError(
      `${uri} does not exist: the artifact's predict entry never answered; retrain the version`,
    );
  }
  const predictions = text
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, SMOKE_ROWS)
    .map((line) => {
      const value = JSON.parse(line) as number | Record<string, number>;
      return typeof value === 'number' ? value : Math.max(...Object.values(value));
    });
  return {
    sha256: checked.sha256,
    size: checked.size,
    smokePredictions: predictions,
    smokeSample: { source: 'holdout', uri, rows: predictions.length, skipped: [] },
  };
}
