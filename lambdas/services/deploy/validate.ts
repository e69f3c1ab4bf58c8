import { z } from 'zod';
import { verifyArtifact } from '../../adapters/registry/artifact-check.js';
import { readHead } from '../../adapters/registry/smoke-sample.js';
import { childUri, parseS3Uri, type S3Objects } from '../../adapters/s3-objects.js';
import type { DeployState } from '../../contracts/pipeline.js';
import { RUN_FILES, runInputUri } from '../../contracts/s3-layout.js';
import { ArtifactValidationError, DataError } from '../../domain/errors.js';
import { type LoadedModel, loadModel } from '../../domain/ml/artifact.js';
import { parseCsv } from '../../domain/ml/dataset.js';
import { predictionDisagreement } from '../../domain/ml/prediction-agreement.js';
import { type Prediction, parsePredictions } from '../../domain/ml/predictions.js';
import { predictOnSample, predictOnSchemaSample } from '../../domain/ml/smoke-test.js';
import type { VersionRecord } from '../../domain/registry/types.js';
import { contractRunUri, smokeUris } from './smoke-plan.js';

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
  /** A contract artifact smoke-tested on holdout rows: its answers agreed with the evaluation's. */
  agreement: z.enum(['agreed', 'not-comparable']).optional(),
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
  if (contractRunUri(artifactUri)) return contractEvidence(objects, state, artifactUri, checked);
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
 * A contract trainer's artifact (model.tar.gz, any framework): its predict entry answered this
 * execution's smoke sample in a predict job (PrepareSmoke → SmokePredict) from the bytes the
 * registry recorded (the stager checked the sha256 before unpacking). Deploy checks there is one
 * usable answer per row, of the task's shape, and, when the sample came from the holdout, that
 * the answers agree with what the evaluation measured on the same rows.
 */
async function contractEvidence(
  objects: S3Objects,
  state: DeployState,
  artifactUri: string,
  checked: { size: number; sha256: string },
): Promise<DeployValidation> {
  const runUri = contractRunUri(artifactUri) as string;
  const plan = state.smoke;
  // The file names are derived here, not taken from the state: only this execution's answers count.
  const { inputUri, predictionsUri } = smokeUris(runUri, state.execution.name);
  if (!plan?.required || plan.artifactUri !== artifactUri || plan.predictionsUri !== predictionsUri) {
    throw new ArtifactValidationError(
      `${artifactUri} was not smoke-tested by its predict entry in this execution (no PrepareSmoke → SmokePredict): start the promotion again`,
    );
  }
  const rows = parseCsv(await objects.getText(parseS3Uri(inputUri)), inputUri).rows.length;
  const answers = await readHead(objects, predictionsUri);
  if (answers === undefined) {
    throw new ArtifactValidationError(
      `the predict entry wrote no answers to the smoke sample (${predictionsUri})`,
    );
  }
  const parsed = parsePredictions(state.training.task, answers, rows);
  if (!parsed.ok) {
    throw new ArtifactValidationError(
      `the predict entry's answers to the smoke sample ${inputUri} are not usable: ${parsed.problem}`,
    );
  }
  const agreement =
    plan.source === 'holdout'
      ? await agreementWithEvaluation(objects, state, runUri, parsed.predictions)
      : 'not-comparable';
  return {
    sha256: checked.sha256,
    size: checked.size,
    smokePredictions: parsed.predictions
      .slice(0, SMOKE_ROWS)
      .map((p) => (typeof p === 'number' ? p : Math.max(...Object.values(p)))),
    smokeSample: { source: plan.source, uri: plan.sourceUri, rows, skipped: [] },
    agreement,
  };
}

/**
 * The smoke sample's answers against the evaluation's on the same holdout rows (the head of both
 * files): a difference refuses the deployment, naming the row. Without the evaluation's file
 * (removed by hand) there is nothing to compare with, and the evidence says so.
 */
async function agreementWithEvaluation(
  objects: S3Objects,
  state: DeployState,
  runUri: string,
  answers: readonly Prediction[],
): Promise<'agreed' | 'not-comparable'> {
  const uri = runInputUri(runUri, 'predictions');
  const text = await readHead(objects, uri);
  if (text === undefined) return 'not-comparable';
  const head = text.split('\n').slice(0, answers.length).join('\n');
  const evaluated = parsePredictions(state.training.task, head, answers.length);
  if (!evaluated.ok) return 'not-comparable';
  const problem = predictionDisagreement(answers, evaluated.predictions);
  if (problem) {
    throw new ArtifactValidationError(
      `the artifact's predict entry no longer answers as it did when evaluated (${uri}): ${problem}; rebuild the image the version was trained with, or retrain`,
    );
  }
  return 'agreed';
}
