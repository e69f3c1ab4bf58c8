import type { Metrics } from '../../contracts/pipeline.js';
import type { ModelArtifact } from './artifact.js';
import { inputNames } from './features.js';
import type { TrainingSummary } from './training-summary.js';

export interface ModelCard {
  readonly model: string;
  readonly runId: string;
  readonly intendedUse: string;
  readonly framework: string;
  readonly target: string;
  readonly data: { datasetUri: string; datasetSha256: string; trainRows: number; holdoutRows: number };
  readonly hyperparameters: TrainingSummary['hyperparameters'];
  readonly holdoutMetricsAtTraining: Partial<Metrics>;
  readonly topCoefficients: { input: string; weight: number }[];
  readonly limitations: string[];
  readonly createdAt: string;
}

export function buildModelCard(
  summary: TrainingSummary,
  artifact: ModelArtifact,
  metrics: Partial<Metrics>,
  description: string,
): ModelCard {
  const names = inputNames(artifact.features);
  const topCoefficients = artifact.weights
    .map((weight, i) => ({ input: names[i] ?? `#${i}`, weight: Math.round(weight * 1e4) / 1e4 }))
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight))
    .slice(0, 8);
  return {
    model: summary.model,
    runId: summary.runId,
    intendedUse:
      description ||
      `Scores P(${summary.target} = 1) per row for the ${summary.model} model; use the score for ranking and thresholds set per use.`,
    framework: `${summary.framework} ${summary.frameworkVersion}`,
    target: summary.target,
    data: {
      datasetUri: summary.datasetUri,
      datasetSha256: summary.datasetSha256,
      trainRows: summary.trainRows,
      holdoutRows: summary.holdoutRows,
    },
    hyperparameters: summary.hyperparameters,
    holdoutMetricsAtTraining: metrics,
    topCoefficients,
    limitations: [
      'A linear model on standardised inputs: interactions are not modelled.',
      'Trained on one dataset snapshot; watch the drift reports for population shift.',
      'Coefficients are on standardised inputs and are not causal effects.',
    ],
    createdAt: summary.finishedAt,
  };
}

export function modelCardMarkdown(card: ModelCard): string {
  const metrics = Object.entries(card.holdoutMetricsAtTraining)
    .map(([k, v]) => `| ${k} | ${Number(v).toFixed(4)} |`)
    .join('\n');
  return [
    `# Model card: ${card.model} (run ${card.runId})`,
    '',
    `**Intended use.** ${card.intendedUse}`,
    '',
    `**Framework.** ${card.framework}; target \`${card.target}\`.`,
    '',
    `**Data.** ${card.data.trainRows} training rows, ${card.data.holdoutRows} held out, from \`${card.data.datasetUri}\` (sha256 ${card.data.datasetSha256.slice(0, 12)}…).`,
    '',
    '| holdout metric | value |',
    '|---|---|',
    metrics,
    '',
    '**Largest coefficients.**',
    '',
    ...card.topCoefficients.map((c) => `- ${c.input}: ${c.weight}`),
    '',
    '**Limitations.**',
    '',
    ...card.limitations.map((l) => `- ${l}`),
    '',
  ].join('\n');
}
