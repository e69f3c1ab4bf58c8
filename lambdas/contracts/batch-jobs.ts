import { z } from 'zod';

/**
 * How the lifecycle waits for its Batch jobs. The train and predict jobs are multi-container
 * (`ecsProperties`) jobs, and Step Functions' optimized `batch:submitJob.sync` integration adds
 * container overrides of its own, which Batch refuses for such jobs ("Container overrides should
 * not be set for ecsProperties jobs"). So the ASL submits them through the AWS SDK integration,
 * `aws-sdk:batch:submitJob.waitForTaskToken`, with per-container environment in
 * `EcsPropertiesOverride`, and passes the task token as a job parameter; when the job ends,
 * Batch's "Batch Job State Change" event reaches the batch-job-ended handler, which completes
 * the task with the job's outcome. The local host runs the same ASL and delivers the same event.
 */

/** The ASL Resource of a Batch job task. */
export const BATCH_JOB_RESOURCE = 'arn:aws:states:::aws-sdk:batch:submitJob.waitForTaskToken';

/** The job parameter carrying the waiting task's token (`Parameters` of SubmitJob). */
export const TASK_TOKEN_PARAMETER = 'mlcycleTaskToken';

/**
 * The job parameter a sweep trial's Train job carries (`"true"`): only such a job, terminated
 * by the early-stopping watcher with a reason starting EARLY_STOP_REASON_PREFIX, ends its task
 * `STOPPED` instead of failed (docs/sweeps.md).
 */
export const TRIAL_JOB_PARAMETER = 'mlcycleTrial';

/** How the early-stopping watcher's TerminateJob reason (the job's statusReason) begins. */
export const EARLY_STOP_REASON_PREFIX = 'mlcycle early stopping: ';

/**
 * The names the ASL gives a run's jobs (`States.Format('mlcycle-{}-{}', …)`), for finding them
 * again: `runs logs` reads a job's output by its name.
 */
export function lifecycleJobName(kind: 'train' | 'predict', model: string, runId: string): string {
  return kind === 'train' ? `mlcycle-${model}-${runId}` : `mlcycle-predict-${model}-${runId}`;
}

/**
 * The name of an execution's deploy-time smoke-test job (`States.Format('mlcycle-smoke-{}', …)`):
 * the execution's name (at most 80 characters, the model's name first) keeps it within Batch's 128.
 */
export function smokeJobName(executionName: string): string {
  return `mlcycle-smoke-${executionName}`;
}

/** EventBridge's detail-type for Batch job status changes (source `aws.batch`). */
export const BATCH_JOB_STATE_CHANGE = 'Batch Job State Change';

/** The statuses a job ends in: the only ones the rule delivers. */
export const BATCH_JOB_END_STATUSES = ['SUCCEEDED', 'FAILED'] as const;

const containerSchema = z.looseObject({
  name: z.string().nullish(),
  exitCode: z.number().nullish(),
  reason: z.string().nullish(),
  logStreamName: z.string().nullish(),
});

/**
 * The event as EventBridge delivers it: the job's description (DescribeJobs' JobDetail). Only
 * the fields mlcycle reads are checked; a multi-container job reports each container under
 * `ecsProperties.taskProperties[0].containers`.
 */
export const batchJobStateChangeSchema = z.object({
  'detail-type': z.literal(BATCH_JOB_STATE_CHANGE),
  source: z.literal('aws.batch'),
  region: z.string().nullish(),
  detail: z.looseObject({
    jobId: z.string().min(1),
    jobName: z.string().min(1),
    jobQueue: z.string().nullish(),
    status: z.string().min(1),
    statusReason: z.string().nullish(),
    parameters: z.record(z.string(), z.string()).nullish(),
    ecsProperties: z
      .looseObject({
        taskProperties: z.array(z.looseObject({ containers: z.array(containerSchema).nullish() })),
      })
      .nullish(),
    container: containerSchema.nullish(),
  }),
});
export type BatchJobStateChangeEvent = z.infer<typeof batchJobStateChangeSchema>;
export type BatchJobDetail = BatchJobStateChangeEvent['detail'];
export type BatchContainerDetail = z.infer<typeof containerSchema>;

/**
 * What the waiting task gets when the job succeeded (its ResultPath: `$.train`, `$.predict`…),
 * or, for a sweep trial's Train job, when early stopping terminated it (`STOPPED`).
 */
export const batchJobResultSchema = z.object({
  jobId: z.string(),
  jobName: z.string(),
  status: z.enum(['SUCCEEDED', 'STOPPED']),
  /** The user container's logs: a CloudWatch console link on AWS, the log file locally. */
  logs: z.string().optional(),
});
export type BatchJobResult = z.infer<typeof batchJobResultSchema>;

/** The event EventBridge delivers when a job ends; the local host sends the same. */
export function batchJobStateChangeEvent(detail: BatchJobDetail, where: { region: string; id: string }) {
  return {
    version: '0',
    id: where.id,
    'detail-type': BATCH_JOB_STATE_CHANGE,
    source: 'aws.batch',
    region: where.region,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    resources: [],
    detail,
  };
}
