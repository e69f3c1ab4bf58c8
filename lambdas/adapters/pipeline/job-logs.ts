import { open, stat } from 'node:fs/promises';
import { type BatchClient, DescribeJobsCommand, ListJobsCommand } from '@aws-sdk/client-batch';
import { type CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { NotFoundError } from '../../domain/errors.js';

/**
 * Where a lifecycle job's output is read from: CloudWatch Logs on AWS (the job found on the
 * training queue by its name, its user container's log stream), the local batch runner's log
 * file on the embedded default. `read` returns what is new since `cursor`.
 */
export interface JobLogSource {
  read(cursor: string | undefined): Promise<{ lines: string[]; cursor: string | undefined; ended: boolean }>;
}

/** The user's container in a lifecycle job definition (TRAIN_JOB_CONTAINERS, PREDICT_JOB_CONTAINERS). */
const USER_CONTAINERS = new Set(['trainer', 'predictor']);
const ENDED = new Set(['SUCCEEDED', 'FAILED']);

interface Stream {
  readonly group: string;
  readonly stream: string;
}

/** A Batch job's user container logs in CloudWatch Logs. */
export class BatchJobLogs implements JobLogSource {
  private jobId: string | undefined;

  constructor(
    private readonly clients: { readonly batch: BatchClient; readonly logs: CloudWatchLogsClient },
    private readonly job: { readonly queue: string; readonly name: string },
  ) {}

  private async findJob(): Promise<string | undefined> {
    if (this.jobId) return this.jobId;
    // With a name filter, ListJobs returns every status, newest first is not promised: sort.
    const out = await this.clients.batch.send(
      new ListJobsCommand({
        jobQueue: this.job.queue,
        filters: [{ name: 'JOB_NAME', values: [this.job.name] }],
      }),
    );
    const newest = [...(out.jobSummaryList ?? [])].sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0))[0];
    this.jobId = newest?.jobId;
    return this.jobId;
  }

  private async describe(): Promise<{ status: string; stream: Stream | undefined } | undefined> {
    const jobId = await this.findJob();
    if (!jobId) return undefined;
    const job = (await this.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs?.[0];
    if (!job) return undefined;
    const containers = job.ecsProperties?.taskProperties?.flatMap((t) => t.containers ?? []) ?? [];
    const user = containers.find((c) => USER_CONTAINERS.has(c.name ?? ''));
    const group = user?.logConfiguration?.options?.['awslogs-group'];
    const stream = user?.logStreamName;
    return { status: job.status ?? 'UNKNOWN', stream: group && stream ? { group, stream } : undefined };
  }

  async read(cursor: string | undefined) {
    const job = await this.describe();
    if (!job) {
      throw new NotFoundError(
        `no Batch job ${this.job.name} on queue ${this.job.queue}: it was never submitted, or Batch has forgotten it (jobs are kept about 7 days)`,
      );
    }
    const ended = ENDED.has(job.status);
    // No stream yet: the job waits for capacity or its container has not started.
    if (!job.stream) return { lines: [], cursor, ended };
    const lines: string[] = [];
    let token = cursor;
    for (;;) {
      const out = await this.clients.logs.send(
        new GetLogEventsCommand({
          logGroupName: job.stream.group,
          logStreamName: job.stream.stream,
          startFromHead: true,
          ...(token ? { nextToken: token } : {}),
        }),
      );
      for (const e of out.events ?? []) if (e.message !== undefined) lines.push(e.message.replace(/\n$/, ''));
      // The same forward token back means there is nothing more for now.
      if (!out.nextForwardToken || out.nextForwardToken === token) break;
      token = out.nextForwardToken;
    }
    return { lines, cursor: token, ended };
  }
}

/** The local batch runner's log file of a job; `ended` says whether its run still waits for it. */
export class LocalJobLogs implements JobLogSource {
  constructor(
    private readonly file: string,
    private readonly ended: () => Promise<boolean>,
  ) {}

  async read(cursor: string | undefined) {
    const ended = await this.ended();
    const size = (await stat(this.file).catch(() => undefined))?.size;
    if (size === undefined) {
      if (ended) throw new NotFoundError(`no log file ${this.file}: the job never ran on this machine`);
      return { lines: [], cursor, ended };
    }
    const from = Number(cursor ?? 0);
    if (size <= from) return { lines: [], cursor: String(from), ended };
    const handle = await open(this.file, 'r');
    try {
      const buffer = Buffer.alloc(size - from);
      await handle.read(buffer, 0, buffer.length, from);
      // Only whole lines: a line still being written is read on the next call.
      const text = buffer.toString('utf8');
      const cut = ended ? text.length : text.lastIndexOf('\n') + 1;
      const lines = text.slice(0, cut).split('\n');
      if (lines.at(-1) === '') lines.pop();
      return { lines, cursor: String(from + Buffer.byteLength(text.slice(0, cut))), ended };
    } finally {
      await handle.close();
    }
  }
}
