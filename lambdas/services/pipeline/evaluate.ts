import { readTrainingSummary } from '../../adapters/pipeline/training-summary.js';
import { readVerifiedArtifact } from '../../adapters/registry/artifact-check.js';
import { childUri, parseS3Uri, type S3Objects } from '../../adapters/s3-objects.js';
import type { EvaluationResult, PreparedState } from '../../contracts/pipeline.js';
import { RUN_FILES } from '../../contracts/s3-layout.js';
import { ArtifactValidationError } from '../../domain/errors.js';
import { loadModel } from '../../domain/ml/artifact.js';
import { evaluateModel } from '../../domain/ml/evaluate.js';
import type { TrainingSummary } from '../../domain/ml/training-summary.js';

export interface EvaluateDeps {
  readonly objects: S3Objects;
  readonly clock?: () => Date;
}

/** The trainer's summary of this run, refused if it is another run's. */
async function trainingSummaryOf(objects: S3Objects, state: PreparedState): Promise<TrainingSummary> {
  const summary = await readTrainingSummary(objects, state.run.outputUri);
  if (summary.model !== state.model || summary.runId !== state.run.runId) {
    throw new ArtifactValidationError(
      `${childUri(state.run.outputUri, RUN_FILES.trainingSummary)} is for ${summary.model} run ${summary.runId}, not ${state.model} run ${state.run.runId}`,
    );
  }
  return summary;
}

/**
 * Evaluate's use case: loads the trained artifact (refusing one whose sha256 differs from what
 * the trainer recorded, or a summary from another run), scores the held-out rows the trainer
 * never saw and records evaluation.json next to the model. Returns `$.evaluation`.
 */
export async function evaluateRun(deps: EvaluateDeps, state: PreparedState): Promise<EvaluationResult> {
  const { objects } = deps;
  const at = (name: string) => childUri(state.run.outputUri, name);
  const summary = await trainingSummaryOf(objects, state);
  const artifact = await readVerifiedArtifact(objects, summary.artifactUri, summary.sha256);
  const model = loadModel(artifact.bytes.toString('utf8'));
  const report = evaluateModel(model, await objects.getText(parseS3Uri(at(RUN_FILES.holdout))));
  const result: EvaluationResult = {
    metrics: report.metrics,
    // The reference trainer reports nothing beside its artifact; the platform measured these.
    reportedMetrics: {},
    holdoutRows: report.rows,
    artifact: { uri: summary.artifactUri, sha256: artifact.sha256 },
    modelCardUri: at(RUN_FILES.modelCard),
    evaluationUri: at(RUN_FILES.evaluation),
  };
  await objects.putJson(parseS3Uri(result.evaluationUri), {
    model: state.model,
    runId: state.run.runId,
    ...result,
    positives: report.positives,
    positiveRate: report.positiveRate,
    meanPrediction: report.meanPrediction,
    threshold: report.threshold,
    confusion: report.confusion,
    evaluatedAt: (deps.clock ?? (() => new Date()))().toISOString(),
  });
  return result;
}
