/**
 * Names of the errors handlers throw. The ASL's Retry/Catch match on these, and a test checks
 * that every ErrorEquals in the ASL is a `States.*` name or one of these.
 */
export const ERROR_NAMES = {
  validation: 'ValidationError',
  notFound: 'NotFoundError',
  conflict: 'ConflictError',
  illegalTransition: 'IllegalTransitionError',
  transient: 'TransientError',
  artifactInvalid: 'ArtifactValidationError',
  evaluationFailed: 'EvaluationError',
  approvalRejected: 'ApprovalRejected',
  approvalExpired: 'ApprovalExpired',
  forbidden: 'ForbiddenError',
  dataError: 'DataError',
  retrainSkipped: 'RetrainSkipped',
  sweepFailed: 'SweepFailed',
} as const;

export type ErrorName = (typeof ERROR_NAMES)[keyof typeof ERROR_NAMES];
