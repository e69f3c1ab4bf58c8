import type { DriftCheckStatus, Severity } from '../../contracts/drift-summary.js';
import type { DiscardMark } from './baselines.js';
import type { Measured } from './measured.js';
import type { PerformanceBreach } from './performance-breach.js';

/** One checked batch (or a failed attempt at one), as `drift report` and alerts read it. */
export interface DriftRecord {
  model: string;
  batchId: string;
  batchKey: string;
  kind: 'batch' | 'baseline';
  checkedAt: string;
  /** `degraded`: checked, but more than monitoring.maxSkippedRowShare of its rows were skipped. */
  status: DriftCheckStatus;
  overallSeverity: Severity;
  driftedShare: number;
  rows: number;
  features: {
    name: string;
    method: string;
    score: number | null;
    severity: Severity;
    /** What was measured (absent on records written before it was kept). */
    measured?: Measured;
  }[];
  /** The baseline file the batch was compared with. */
  baselineKey?: string;
  resultUri?: string;
  reportUri?: string;
  error?: string;
  /** What the profile warned of (skipped rows, invalid values, …), for `drift check` to print. */
  warnings?: string[];
  /** Rows skipped whole (ragged, oversized), when there were any. */
  skippedRows?: number;
  alerted: boolean;
  retrainExecution?: string;
  /**
   * Set aside by someone (`drift discard-batch`): kept, but left out of the trend, the worst-batch
   * views and what retraining reads.
   */
  discarded?: DiscardMark;
  /** The model's live-performance thresholds this batch broke (alerted with the batch, once). */
  performanceBreaches?: PerformanceBreach[];
}

/**
 * The status of a checked batch: `degraded` (with a warning giving the counts) when more than
 * `maxShare` of its rows were skipped, so its figures describe only part of the file.
 */
export function skippedRowsStatus(
  status: DriftRecord['status'],
  rows: number,
  skipped: number,
  maxShare: number,
): { status: DriftRecord['status']; warning?: string } {
  const total = rows + skipped;
  if (!total || skipped / total <= maxShare) return { status };
  return {
    status: 'degraded',
    warning: `${skipped} of ${total} rows skipped (${((skipped / total) * 100).toFixed(1)}%, more than monitoring.maxSkippedRowShare ${maxShare}): the drift figures describe only the rows read; fix the file (rows with the wrong number of fields) and upload it again`,
  };
}
