import { DataError, NotFoundError } from '../../domain/errors.js';
import { type LoadedModel, loadModel } from '../../domain/ml/artifact.js';
import { predictOnSample, predictOnSchemaSample } from '../../domain/ml/smoke-test.js';
import { parseS3Uri, type S3Objects } from '../s3-objects.js';

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

/** How much of a sample object a smoke test reads: enough for a header and many rows. */
export const SMOKE_SAMPLE_BYTES = 256 * 1024;

/**
 * The first `maxBytes` of an object, cut after its last complete line (a dataset may be
 * gigabytes; a smoke test needs a few rows), or undefined when the object does not exist.
 */
export async function readHead(
  objects: S3Objects,
  uri: string,
  maxBytes = SMOKE_SAMPLE_BYTES,
): Promise<string | undefined> {
  const loc = parseS3Uri(uri);
  if (!(await objects.head(loc))) return undefined;
  let stream: Awaited<ReturnType<S3Objects['getStream']>>;
  try {
    stream = await objects.getStream(loc);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let complete = true;
  for await (const chunk of stream) {
    const buf = Buffer.from(chunk as Uint8Array);
    chunks.push(buf);
    size += buf.length;
    if (size >= maxBytes) {
      complete = false;
      break;
    }
  }
  stream.destroy();
  const bytes = Buffer.concat(chunks);
  if (complete) return bytes.toString('utf8');
  const cut = bytes.lastIndexOf(0x0a, maxBytes);
  return bytes.subarray(0, cut > 0 ? cut + 1 : 0).toString('utf8');
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
