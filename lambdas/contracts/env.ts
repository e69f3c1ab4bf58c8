/**
 * Environment variable names shared by the CDK constructs (which set them) and the handlers
 * (whose zod schemas require them). One list, so a construct sets exactly what a handler reads.
 * Which function gets which, with what value, is built in function-env.ts for both worlds.
 */
export const ENV = {
  /** DynamoDB registry table (single-table design, see lambdas/adapters/registry/README.md). */
  table: 'MLCYCLE_TABLE',
  /** The one artifacts bucket (datasets/, runs/, monitoring/, reports/, deployments/). */
  bucket: 'MLCYCLE_BUCKET',
  /** ARN of the lifecycle state machine (drift retraining starts it). */
  stateMachineArn: 'MLCYCLE_STATE_MACHINE_ARN',
  /** Base URL of the HTTP API that serves approval pages, e.g. https://abc.execute-api…/ */
  approvalBaseUrl: 'MLCYCLE_APPROVAL_BASE_URL',
  /**
   * Base URL game clients download served artifacts from (and read manifests at): the CloudFront
   * distribution's on AWS, the local API's on the embedded default. Manifests' download URLs
   * start with it. Server-side only: never taken from a request.
   */
  clientBaseUrl: 'MLCYCLE_CLIENT_BASE_URL',
  /** The client distribution whose cached manifest a promotion or rollback invalidates (AWS only). */
  cdnDistributionId: 'MLCYCLE_CDN_DISTRIBUTION_ID',
  /** Secrets Manager secret holding the HMAC key for approval links (AWS). */
  signingSecretArn: 'MLCYCLE_SIGNING_SECRET_ARN',
  /** A file holding the HMAC key (embedded default only; used instead of the secret ARN). */
  signingSecretFile: 'MLCYCLE_SIGNING_SECRET_FILE',
  /** Verified SES identity that approval and notification emails are sent from. */
  emailSender: 'MLCYCLE_EMAIL_SENDER',
  /** A folder that receives emails as .eml files (embedded default only; replaces SES). */
  outboxDir: 'MLCYCLE_OUTBOX_DIR',
  /** SNS topic for drift alerts and pipeline failure notices. */
  alertTopicArn: 'MLCYCLE_ALERT_TOPIC_ARN',
  /**
   * The deployed config (validated mlcycle.config.yaml as JSON): a file in the functions' layer on
   * AWS, the config `mlcycle up` started with locally. Every policy a handler applies (gates,
   * approvers, quorum, who may roll back, identities, monitoring, archival) is read from it,
   * never from an event.
   */
  configFile: 'MLCYCLE_CONFIG_FILE',
  /**
   * How the control API knows who calls: `iam` (API Gateway's IAM authorizer; the principal is
   * mapped to a person through the config's `identities`) or `local` (the embedded default's
   * gateway passes the `--as` name; a local convenience).
   */
  authMode: 'MLCYCLE_AUTH_MODE',
  /**
   * The code the stack was built from (the repository's git sha at synth, `-dirty` when it had
   * uncommitted changes; locally the working tree's): what Register records as a version's
   * codeVersion, the same value the train job gets as MLCYCLE_CODE_VERSION.
   */
  codeVersion: 'MLCYCLE_CODE_VERSION',
  /** The training job queue (ARN): where the lifecycle's Batch jobs are found to stop them. */
  jobQueue: 'MLCYCLE_JOB_QUEUE',
  /** Powertools logger service name and level. */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/**
 * Container environment of the training job (AWS Batch container overrides, or the local child
 * process). The trainer reads exactly these.
 */
export const TRAINER_ENV = {
  model: 'MLCYCLE_MODEL',
  runId: 'MLCYCLE_RUN_ID',
  datasetUri: 'MLCYCLE_DATASET_URI',
  outputUri: 'MLCYCLE_OUTPUT_URI',
  hyperparameters: 'MLCYCLE_HYPERPARAMETERS',
  target: 'MLCYCLE_TARGET',
  codeVersion: 'MLCYCLE_CODE_VERSION',
  exclude: 'MLCYCLE_EXCLUDE',
  holdoutFraction: 'MLCYCLE_HOLDOUT_FRACTION',
} as const;
