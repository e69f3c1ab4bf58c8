import type { Severity } from '../../contracts/drift-summary.js';
import type { Measured } from './measured.js';

/** One checked batch (or a failed attempt at one), as `drift report` and alerts read it. */
export interface DriftRecord {
  model: string;
  batchId: string;
  batchKey: string;
  kind: 'batch' | 'baseline';
  checkedAt: string;
  status: 'ok' | 'insufficient-data' | 'error';
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
  alerted: boolean;
  retrainExecution?: string;
}
