import { ERROR_NAMES, type ErrorName } from '../contracts/errors.js';

/**
 * Base of every error the platform throws on purpose. `name` is what Step Functions matches in
 * Retry/Catch and what the CLI and HTTP layers map to exit codes and statuses.
 */
export abstract class MlcycleError extends Error {
  abstract override readonly name: ErrorName;
  /** HTTP status a web handler answers with. */
  abstract readonly status: number;
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
    /** `cause`: the error this one stands for (kept for logs; not part of the message). */
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Bad input: names the key and the value, and says what is allowed. */
export class ValidationError extends MlcycleError {
  override readonly name = ERROR_NAMES.validation;
  readonly status = 400;
}

export class NotFoundError extends MlcycleError {
  override readonly name = ERROR_NAMES.notFound;
  readonly status = 404;
}

/** A write lost a race or repeats a unique value (duplicate version, decided twice, ...). */
export class ConflictError extends MlcycleError {
  override readonly name = ERROR_NAMES.conflict;
  readonly status = 409;
}

export class IllegalTransitionError extends MlcycleError {
  override readonly name = ERROR_NAMES.illegalTransition;
  readonly status = 409;
}

/**
 * Worth retrying: throttling, a timeout, a refused or reset connection, a 5xx from a dependency.
 * The ASL retries only these. AWS SDK clients built by lambdas/adapters raise it themselves
 * (transient-errors.ts), after the SDK's own retries, with the SDK's error as `cause`.
 */
export class TransientError extends MlcycleError {
  override readonly name = ERROR_NAMES.transient;
  readonly status = 503;
}

/** A model artifact is missing, fails its checksum, will not load or will not predict. */
export class ArtifactValidationError extends MlcycleError {
  override readonly name = ERROR_NAMES.artifactInvalid;
  readonly status = 422;
}

export class EvaluationError extends MlcycleError {
  override readonly name = ERROR_NAMES.evaluationFailed;
  readonly status = 422;
}

/** An approver rejected; SendTaskFailure carries this name so the ASL's Catch routes it. */
export class ApprovalRejected extends MlcycleError {
  override readonly name = ERROR_NAMES.approvalRejected;
  readonly status = 409;
}

export class ApprovalExpired extends MlcycleError {
  override readonly name = ERROR_NAMES.approvalExpired;
  readonly status = 410;
}

export class ForbiddenError extends MlcycleError {
  override readonly name = ERROR_NAMES.forbidden;
  readonly status = 403;
}

/** Input data (a dataset or monitoring file) cannot be read as promised. */
export class DataError extends MlcycleError {
  override readonly name = ERROR_NAMES.dataError;
  readonly status = 422;
}

/**
 * A run would train on nothing new (the dataset and hyperparameters of the version serving its
 * stage): PrepareRun records the run as skipped and throws this; the ASL catches it into the
 * `Skipped` Succeed state, so the execution ends as a non-failure with no version and no email.
 */
export class RetrainSkipped extends MlcycleError {
  override readonly name = ERROR_NAMES.retrainSkipped;
  readonly status = 409;
}

/**
 * No trial of a sweep was evaluated (each failed or was stopped): PickBest throws this, the ASL
 * catches it into the training failure path, and nothing is registered or promoted.
 */
export class SweepFailed extends MlcycleError {
  override readonly name = ERROR_NAMES.sweepFailed;
  readonly status = 422;
}

export function isMlcycleError(err: unknown): err is MlcycleError {
  return err instanceof MlcycleError;
}
