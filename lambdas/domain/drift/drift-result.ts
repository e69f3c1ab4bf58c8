import type { Severity } from '../../contracts/drift-summary.js';
import type { Metrics } from '../../contracts/pipeline.js';

/** What comparing a batch with its baseline finds (compareProfiles), per column and overall. */
export type FeatureRole = 'feature' | 'target' | 'prediction' | 'latency';

export interface FeatureDrift {
  name: string;
  role: FeatureRole;
  kind: 'numeric' | 'categorical';
  status: 'ok' | 'insufficient-data' | 'missing-in-batch';
  /** The method whose score decides the severity, and that score. */
  method: string;
  score: number | null;
  severity: Severity;
  details: {
    ks?: number;
    ksNoiseMargin?: number;
    ksBeyondNoise?: number;
    /** KS p-value (numeric) or Pearson χ² homogeneity p-value (categorical): reported, not deciding. */
    pValue?: number;
    pValueTest?: 'ks' | 'chi-square';
    psi?: number;
    wassersteinNormalized?: number;
    wassersteinNoiseMargin?: number;
    wassersteinBeyondNoise?: number;
    jensenShannon?: number;
    jensenShannonNoiseMargin?: number;
    jensenShannonBeyondNoise?: number;
    unseen?: string[];
    vanished?: string[];
    baselineMean?: number;
    batchMean?: number;
    baselineSd?: number;
    batchSd?: number;
    missingRate: {
      baseline: number;
      batch: number;
      /** batch − baseline (a share, signed). */
      change: number;
      /** The change two same-law samples of these sizes reach by chance (absent: column missing). */
      noiseMargin?: number;
      /** |change| beyond that margin: the missing rate's score on the severity thresholds. */
      beyondNoise?: number;
      severity: Severity;
    };
    baselineRows: number;
    batchRows: number;
  };
  recommendation: string;
  /** For charts: shares per bin/category, baseline vs batch. */
  chart: { labels: string[]; baseline: number[]; batch: number[] };
}

export interface DriftResult {
  status: 'ok' | 'insufficient-data';
  overallSeverity: Severity;
  driftedShare: number;
  datasetDrift: boolean;
  rows: { baseline: number; batch: number };
  features: FeatureDrift[];
  addedColumns: string[];
  performance: {
    metrics: Metrics | null;
    reference: Partial<Metrics> | null;
    change: Partial<Metrics> | null;
    latency: { p50: number; p95: number; p99: number } | null;
  };
  warnings: string[];
}
