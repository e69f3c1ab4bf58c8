import { churnCsv } from './churn.js';
import { LTV_TARGET, ltvCsv } from './ltv.js';
import { SEGMENT_TARGET, segmentsCsv } from './segments.js';

/** A seeded synthetic player table: what the demo and `datasets generate` upload for a model. */
export interface SyntheticDataset {
  /** The sample config's model it was made for. */
  readonly model: string;
  /** The column it is made to predict. */
  readonly target: string;
  readonly csv: (rows: number, seed: number) => string;
}

export const SYNTHETIC_DATASETS: readonly SyntheticDataset[] = [
  { model: 'churn', target: 'churned', csv: (rows, seed) => churnCsv({ rows, seed }) },
  { model: 'ltv', target: LTV_TARGET, csv: (rows, seed) => ltvCsv({ rows, seed }) },
  { model: 'segments', target: SEGMENT_TARGET, csv: (rows, seed) => segmentsCsv({ rows, seed }) },
];

/**
 * The synthetic table for a configured model: the one whose target column is the model's target
 * (a model of any name predicting `churned` gets the churn table), else none.
 */
export function syntheticDatasetFor(target: string): SyntheticDataset | undefined {
  return SYNTHETIC_DATASETS.find((d) => d.target === target);
}
