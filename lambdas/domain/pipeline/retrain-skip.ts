import type { VersionRecord } from '../registry/types.js';

type Hyperparameters = Readonly<Record<string, string | number | boolean>>;

/** What PrepareRun knows when it decides whether a run would train on anything new. */
export interface RetrainCandidate {
  readonly model: string;
  readonly stage: string;
  readonly datasetUri: string;
  readonly datasetSha256: string;
  /** The run's effective hyperparameters (config plus recorded overrides). */
  readonly hyperparameters: Hyperparameters;
}

/** Why a run was skipped: recorded on the run and carried by the RetrainSkipped error. */
export interface RetrainSkip {
  readonly reason: string;
  readonly datasetSha256: string;
  readonly servingVersion: string;
}

/**
 * Whether a run would retrain on nothing new: its dataset has the sha256 the version serving
 * its target stage was trained on, with the same hyperparameters (every one the run sets has
 * the value the serving version's lineage records; keys only the trainer filled in are not
 * compared). Then the run is skipped with a one-line reason; otherwise null. A forced run, a
 * stage nothing serves, or a serving version without a recorded dataset hash (registered from
 * outside) is never skipped.
 */
export function retrainSkip(
  candidate: RetrainCandidate,
  serving: Pick<VersionRecord, 'version' | 'lineage'> | undefined,
  force: boolean,
): RetrainSkip | null {
  if (force || !serving) return null;
  const servedSha = serving.lineage.datasetSha256;
  if (!servedSha || servedSha !== candidate.datasetSha256) return null;
  const trained = serving.lineage.hyperparameters ?? {};
  const changed = Object.entries(candidate.hyperparameters).some(
    ([key, value]) => !(key in trained) || String(trained[key]) !== String(value),
  );
  if (changed) return null;
  return {
    datasetSha256: candidate.datasetSha256,
    servingVersion: serving.version,
    reason:
      `retraining ${candidate.model} for ${candidate.stage} skipped: dataset ${candidate.datasetUri} ` +
      `(sha256 ${candidate.datasetSha256}) is the dataset ${candidate.model} ${serving.version}, serving ` +
      `${candidate.stage}, was trained on (sha256 ${servedSha}), with the same hyperparameters; ` +
      'upload new data, or pass --force to train anyway',
  };
}

/**
 * The skip reason of an execution that ended in the `Skipped` state, from its output (JSON):
 * `$.skipped.Cause` is the Lambda error (JSON with errorMessage on AWS, the message locally).
 * Null for any other execution.
 */
export function skippedReason(executionOutput: string | undefined): string | null {
  let cause: unknown;
  try {
    cause = (JSON.parse(executionOutput ?? '') as { skipped?: { Cause?: unknown } } | null)?.skipped?.Cause;
  } catch {
    return null;
  }
  if (typeof cause !== 'string') return null;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // a plain-text cause is the message itself
  }
  return cause;
}
