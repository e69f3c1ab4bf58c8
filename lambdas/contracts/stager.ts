/**
 * The stager container (containers/stager) of a Batch training or evaluation job: its modes, its
 * environment, and the shared volume it and the user's trainer image meet on. lib/training.ts
 * builds the job definitions from these; the stager entry parses them.
 */

/** The stager's modes, its container's command (`node /app/stager.mjs <mode>`). */
export const STAGER_MODES = [
  'stage-in-train',
  'stage-out-train',
  'stage-in-predict',
  'stage-out-predict',
  'checkpoint-sync',
] as const;
export type StagerMode = (typeof STAGER_MODES)[number];

export const STAGER_ENV = {
  /** s3://bucket/runs/<model>/<runId>/ (set per job by the state machine). */
  runUri: 'MLCYCLE_RUN_URI',
  /** The shared volume's mount point in every container of the job. */
  workDir: 'MLCYCLE_WORK_DIR',
  /** Predict: the rows to predict (default: the run's input/holdout-features.csv). */
  inputUri: 'MLCYCLE_INPUT_URI',
  /** Predict: where the predictions go (default: the run's evaluation/predictions.jsonl). */
  predictionsUri: 'MLCYCLE_PREDICTIONS_URI',
  /** Predict: an artifact other than the run's model.tar.gz, with its sha256 (both or neither). */
  artifactUri: 'MLCYCLE_ARTIFACT_URI',
  artifactSha256: 'MLCYCLE_ARTIFACT_SHA256',
  /** checkpoint-sync: seconds between two uploads of the checkpoint folder. */
  checkpointSyncSeconds: 'MLCYCLE_CHECKPOINT_SYNC_SECONDS',
  /**
   * checkpoint-sync: when set, it also copies output/metrics.jsonl to the run's
   * progress/metrics.jsonl this often, whenever it grew (a sweep trial's Train job sets it).
   */
  progressSeconds: 'MLCYCLE_PROGRESS_SECONDS',
} as const;

/** Where the shared volume is mounted, and the trainer-contract paths on it. */
export const JOB_VOLUME = {
  name: 'mlcycle-work',
  mountPath: '/mlcycle',
  train: '/mlcycle/input/train.csv',
  validation: '/mlcycle/input/validation.csv',
  outputDir: '/mlcycle/output',
  checkpointDir: '/mlcycle/checkpoints',
  modelDir: '/mlcycle/model',
  /** Whatever rows a predict job answers (the holdout's features, or Deploy's smoke sample). */
  predictInput: '/mlcycle/input/predict-input.csv',
  predictions: '/mlcycle/predictions.jsonl',
} as const;

/** Default seconds between checkpoint uploads. */
export const DEFAULT_CHECKPOINT_SYNC_SECONDS = 60;

/**
 * The CloudWatch console URL of one log stream (the run record's "logs" link). The console
 * escapes `/` in the group and stream as `$252F` (URL-encoded, then `%` → `$25`).
 */
export function cloudWatchLogStreamUrl(region: string, logGroup: string, logStream: string): string {
  const consoleEscape = (s: string) => encodeURIComponent(encodeURIComponent(s)).replaceAll('%', '$');
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${consoleEscape(logGroup)}/log-events/${consoleEscape(logStream)}`;
}

/** Container names in a train job definition (the ASL overrides their environment by name). */
export const TRAIN_JOB_CONTAINERS = {
  stageIn: 'stage-in',
  trainer: 'trainer',
  checkpointSync: 'checkpoint-sync',
  stageOut: 'stage-out',
} as const;

/** Container names in a predict (evaluation) job definition. */
export const PREDICT_JOB_CONTAINERS = {
  stageIn: 'stage-in',
  predictor: 'predictor',
  stageOut: 'stage-out',
} as const;

/** MiB of a job's memory kept for the stager containers; the trainer gets the rest. */
export const STAGER_MEMORY_MIB = 1024;
