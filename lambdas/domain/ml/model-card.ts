import type { Metrics } from '../../contracts/pipeline.js';
import type { ModelArtifact } from './artifact.js';
import { inputNames } from './features.js';
import type { TrainingSummary } from './training-summary.js';

/** How many coefficients the card lists, largest magnitude first. */
const TOP_COEFFICIENTS = 8;

/**
 * The model card (model-card.json; model-card.md is its rendering). Flat sections of scalars,
 * small objects and lists, so the approval page can render any card generically.
 */
export interface ModelCard {
  readonly model: string;
  readonly runId: string;
  readonly intendedUse: string;
  readonly framework: string;
  readonly target: string;
  readonly features: { name: string; kind: 'numeric' | 'categorical' }[];
  readonly data: { datasetUri: string; datasetSha256: string; trainRows: number; holdoutRows: number };
  readonly hyperparameters: TrainingSummary['hyperparameters'];
  /** Holdout metrics the trainer measured; the Evaluate step's evaluation.json is authoritative. */
  readonly holdoutMetricsAtTraining: Partial<Metrics>;
  readonly decisionThreshold: number;
  readonly topCoefficients: { input: string; weight: number }[];
  readonly limitations: string[];
  readonly codeVersion: string;
  readonly createdAt: string;
}

export function buildModelCard(
  summary: TrainingSummary,
  artifact: ModelArtifact,
  metrics: Partial<Metrics>,
  description = '',
): ModelCard {
  const names = inputNames(artifact.features);
  const topCoefficients = artifact.weights
    .map((weight, i) => ({ input: names[i] ?? `#${i}`, weight: Math.round(weight * 1e4) / 1e4 }))
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || (a.input < b.input ? -1 : 1))
    .slice(0, TOP_COEFFICIENTS);
  return {
    model: summary.model,
    runId: summary.runId,
    intendedUse:
      description ||
      `Scores P(${summary.target} = 1) per row for the ${summary.model} model, for ranking and for decisions at a threshold chosen per use. Not for decisions about individuals without human review.`,
    framework: `${summary.framework} ${summary.frameworkVersion}`,
    target: summary.target,
    features: summary.features,
    data: {
      datasetUri: summary.datasetUri,
      datasetSha256: summary.datasetSha256,
      trainRows: summary.trainRows,
      holdoutRows: summary.holdoutRows,
    },
    hyperparameters: summary.hyperparameters,
    holdoutMetricsAtTraining: metrics,
    decisionThreshold: artifact.threshold,
    topCoefficients,
    limitations: [
      'A linear model on standardised inputs: interactions and non-linear effects are not modelled.',
      'Trained on one dataset snapshot; watch the drift reports for population and concept shift.',
      'Coefficients are associations on standardised inputs, not causal effects.',
      `Categorical values unseen in training share one "(other)" input; blanks in numeric columns are imputed with the training mean.`,
    ],
    codeVersion: summary.codeVersion,
    createdAt: summary.finishedAt,
  };
}

const fmt = (v: unknown) => (typeof v === 'number' ? String(Number(v.toFixed(4))) : String(v));
const cell = (v: unknown) => fmt(v).replace(/\|/g, '\\|');

export function modelCardMarkdown(card: ModelCard): string {
  const table = (head: [string, string], entries: [string, unknown][]) => [
    `| ${head[0]} | ${head[1]} |`,
    '|---|---|',
    ...entries.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`),
  ];
  return [
    `# Model card: ${card.model} (run ${card.runId})`,
    '',
    '## Intended use',
    '',
    card.intendedUse,
    '',
    '## Model',
    '',
    `${card.framework}; target \`${card.target}\`; decision threshold ${card.decisionThreshold}; code version \`${card.codeVersion}\`.`,
    '',
    `Features: ${card.features.map((f) => `\`${f.name}\` (${f.kind})`).join(', ')}.`,
    '',
    '## Training data',
    '',
    `${card.data.trainRows} training rows and ${card.data.holdoutRows} held-out rows from \`${card.data.datasetUri}\` (sha256 \`${card.data.datasetSha256}\`).`,
    '',
    '## Hyperparameters',
    '',
    ...table(['hyperparameter', 'value'], Object.entries(card.hyperparameters)),
    '',
    '## Evaluation (holdout, at training time)',
    '',
    ...table(['metric', 'value'], Object.entries(card.holdoutMetricsAtTraining)),
    '',
    '## Largest coefficients (standardised inputs)',
    '',
    ...table(
      ['input', 'weight'],
      card.topCoefficients.map((c) => [c.input, c.weight]),
    ),
    '',
    '## Limitations',
    '',
    ...card.limitations.map((l) => `- ${l}`),
    '',
    `_Created ${card.createdAt}._`,
    '',
  ].join('\n');
}
