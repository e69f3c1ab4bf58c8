/**
 * Time budgets of a lifecycle execution, so that every wait ends in a state the pipeline handles
 * (a Catch that reaches RecordFailure) rather than in a clock that kills the whole execution.
 *
 * The clocks, from the inside out:
 * - AWS Batch ends one attempt after the job definition's attempt duration (measured from the
 *   attempt's start, so RUNNABLE and instance start-up are not counted);
 * - the job queue cancels a job that waited RUNNABLE without capacity for its time limit;
 * - the Train task's timeout counts from SubmitJob to the job's end: every attempt's wait,
 *   start-up and run;
 * - the Approve task waits for the approval timeout;
 * - the execution's own timeout (the ASL's top-level TimeoutSeconds) must outlast them all.
 */

/** Step Functions ends a Standard workflow after one year at most; the ASL uses exactly that. */
export const EXECUTION_TIMEOUT_SECONDS = 365 * 24 * 3600;

/**
 * The most that all Lambda task states of one execution may take together, retries and backoff
 * included. The synth-time check of the ASL (lib/asl-budget.ts) proves the definition stays
 * within it, so config validation can rely on it without reading the ASL.
 */
export const LAMBDA_STEPS_ALLOWANCE_SECONDS = 2 * 3600;

/** SubmitJob, the `.sync` integration noticing the job's end, and clock skew between services. */
export const SUBMIT_MARGIN_SECONDS = 300;

export interface TrainingBudgetInput {
  /** The job definition's per-attempt timeout (`training.timeoutMinutes`). */
  readonly attemptSeconds: number;
  /** Attempts Batch may make: 1 plus the retries after Spot reclaims an instance. */
  readonly attempts: number;
  /** How long a job may wait RUNNABLE without capacity before the queue cancels it. */
  readonly capacityWaitSeconds: number;
  /** Instance boot and image pull, per attempt. */
  readonly startupSeconds: number;
}

/**
 * A Batch job task's timeout (Train; Predict and SmokePredict with the predict attempt): long
 * enough for every attempt Batch may make, each after a wait.
 */
export function trainTaskTimeoutSeconds(b: TrainingBudgetInput): number {
  requireWhole('attempts', b.attempts, 1);
  requireWhole('attemptSeconds', b.attemptSeconds, 1);
  requireWhole('capacityWaitSeconds', b.capacityWaitSeconds, 0);
  requireWhole('startupSeconds', b.startupSeconds, 0);
  return b.attempts * (b.capacityWaitSeconds + b.startupSeconds + b.attemptSeconds) + SUBMIT_MARGIN_SECONDS;
}

export interface ExecutionBudget {
  readonly totalSeconds: number;
  /** Whether the longest path ends before the execution timeout. */
  readonly fits: boolean;
  /** The longest approval wait that still fits with this training budget. */
  readonly maxApprovalWaitSeconds: number;
}

/**
 * The longest path of one execution: the Lambda steps, the Train task (0 for a promotion, which
 * does not train) and the approval wait, against the execution timeout.
 */
export function executionBudget(input: {
  /** The Batch job tasks on the path: Train, Predict and SmokePredict. */
  readonly trainTaskSeconds: number;
  readonly approvalWaitSeconds: number;
}): ExecutionBudget {
  const fixed = LAMBDA_STEPS_ALLOWANCE_SECONDS + input.trainTaskSeconds;
  const totalSeconds = fixed + input.approvalWaitSeconds;
  return {
    totalSeconds,
    fits: totalSeconds <= EXECUTION_TIMEOUT_SECONDS,
    maxApprovalWaitSeconds: EXECUTION_TIMEOUT_SECONDS - fixed,
  };
}

function requireWhole(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number ≥ ${min}, got ${value}`);
  }
}
