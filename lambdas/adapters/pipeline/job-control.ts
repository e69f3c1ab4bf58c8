import {
  type BatchClient,
  type JobStatus,
  ListJobsCommand,
  TerminateJobCommand,
} from '@aws-sdk/client-batch';

/** A job in these statuses still holds (or waits for) an instance. */
const ACTIVE: ReadonlySet<JobStatus | undefined> = new Set([
  'SUBMITTED',
  'PENDING',
  'RUNNABLE',
  'STARTING',
  'RUNNING',
]);

/**
 * Stops the lifecycle's Batch jobs by the names the ASL gives them. A state that waits for a job
 * with a task token does not stop it when its execution ends (as `.sync` did), so whatever closes
 * an ended execution stops the jobs it left running.
 */
export class BatchJobControl {
  constructor(
    private readonly batch: BatchClient,
    /** The training job queue (name or ARN). */
    private readonly queue: string,
  ) {}

  /** Terminates every active job with one of `names`; returns the ids it terminated. */
  async stopJobs(names: readonly string[], reason: string): Promise<string[]> {
    const stopped: string[] = [];
    for (const name of names) {
      const out = await this.batch.send(
        new ListJobsCommand({ jobQueue: this.queue, filters: [{ name: 'JOB_NAME', values: [name] }] }),
      );
      for (const job of out.jobSummaryList ?? []) {
        if (!job.jobId || !ACTIVE.has(job.status)) continue;
        // TerminateJob also cancels a job that has not started; Batch caps the reason's length.
        await this.batch.send(new TerminateJobCommand({ jobId: job.jobId, reason: reason.slice(0, 250) }));
        stopped.push(job.jobId);
      }
    }
    return stopped;
  }
}
