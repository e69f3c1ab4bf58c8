import { readPublishedArtifact } from '../../adapters/pipeline/stager.js';
import { readTrainingSummary } from '../../adapters/pipeline/training-summary.js';
import { readVerifiedArtifact, verifyArtifact } from '../../adapters/registry/artifact-check.js';
import { childUri, parseS3Uri, type S3Objects } from '../../adapters/s3-objects.js';
import type { EvaluationResult, PreparedState } from '../../contracts/pipeline.js';
import { RUN_FILES, runInputUri } from '../../contracts/s3-layout.js';
import { ArtifactValidationError, EvaluationError } from '../../domain/errors.js';
import { loadModel } from '../../domain/ml/artifact.js';
import { parseCsv } from '../../domain/ml/dataset.js';
import { evaluateModel } from '../../domain/ml/evaluate.js';
import { parsePredictions } from '../../domain/ml/predictions.js';
import { measureTask } from '../../domain/ml/task-metrics.js';
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
  // The reference trainer (which predates the contract) leaves a training summary; a contract
  // trainer's run is measured from its predict entry's output.
  if (state.run.runUri && !(await objects.head(parseS3Uri(at(RUN_FILES.trainingSummary))))) {
    return evaluateContractRun(deps, state, state.run.runUri);
  }
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

/** What the trainer claimed in output/reported-metrics.json: numbers only, kept beside the measured ones. */
async function reportedMetricsOf(objects: S3Objects, runUri: string): Promise<Record<string, number>> {
  const loc = parseS3Uri(runInputUri(runUri, 'outputReportedMetrics'));
  if (!(await objects.head(loc))) return {};
  let raw: unknown;
  try {
    raw = await objects.getJson(loc);
  } catch {
    throw new EvaluationError(
      `${runInputUri(runUri, 'outputReportedMetrics')} is not JSON: it must be {"name": number}`,
    );
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new EvaluationError(
      `${runInputUri(runUri, 'outputReportedMetrics')} must be a JSON object {"name": number}`,
    );
  }
  return Object.fromEntries(
    Object.entries(raw).filter(
      (e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]),
    ),
  );
}

/**
 * A contract run: the predict entry's predictions on the holdout features, checked line by line
 * (parsePredictions) and measured against the labels only the platform holds (measureTask, by
 * the model's task). The trainer's own numbers are stored as reportedMetrics, never as metrics.
 */
async function evaluateContractRun(
  deps: EvaluateDeps,
  state: PreparedState,
  runUri: string,
): Promise<EvaluationResult> {
  const { objects } = deps;
  const uri = (file: Parameters<typeof runInputUri>[1]) => runInputUri(runUri, file);
  const published = await readPublishedArtifact(objects, runUri);
  if (published.artifactUri !== uri('modelArchive')) {
    throw new ArtifactValidationError(
      `the artifact record of ${state.model} run ${state.run.runId} names ${published.artifactUri}, not this run's ${uri('modelArchive')}`,
    );
  }
  const artifact = await verifyArtifact(objects, published.artifactUri, published.sha256);
  const target = state.training.target;
  const labels = parseCsv(
    await objects.getText(parseS3Uri(uri('holdoutLabels'))),
    uri('holdoutLabels'),
  ).rows.map((r) => r[target] ?? '');
  const parsed = parsePredictions(
    state.training.task,
    await objects.getText(parseS3Uri(uri('predictions'))),
    labels.length,
  );
  if (!parsed.ok) {
    throw new EvaluationError(
      `the predict entry's output ${uri('predictions')} is not usable: ${parsed.problem} ` +
        `(docs/trainer-contract.md, Predict mode: one JSON value per input row, in order)`,
    );
  }
  const measured = measureTask(state.training.task, labels, parsed.predictions);
  const result: EvaluationResult = {
    metrics: measured.metrics,
    reportedMetrics: await reportedMetricsOf(objects, runUri),
    holdoutRows: labels.length,
    artifact: { uri: published.artifactUri, sha256: artifact.sha256 },
    modelCardUri: uri('outputModelCard'),
    evaluationUri: uri('evaluation'),
  };
  await objects.putJson(parseS3Uri(result.evaluationUri), {
    model: state.model,
    runId: state.run.runId,
    task: state.training.task,
    ...result,
    details: measured.details,
    evaluatedAt: (deps.clock ?? (() => new Date()))().toISOString(),
  });
  return result;
}
