import { type JsonApiServer, serveJsonApi } from './json-api.js';

/** A job the local batch runner runs, as ListJobs reports it. */
export interface LocalJob {
  readonly jobId: string;
  readonly jobName: string;
  readonly jobQueue: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly createdAt: number;
  /** Ends the job's process (TerminateJob), with Batch's reason. */
  readonly terminate: (reason: string) => void;
}

/** The jobs of this runtime, by id: what the local Batch API lists and terminates. */
export class LocalJobs {
  private readonly jobs = new Map<string, LocalJob>();

  add(job: LocalJob): void {
    this.jobs.set(job.jobId, job);
  }

  list(jobQueue: string, name?: string): LocalJob[] {
    return [...this.jobs.values()].filter(
      (j) =>
        (j.jobQueue === jobQueue || j.jobQueue.endsWith(`/${jobQueue}`)) && (!name || j.jobName === name),
    );
  }

  get(jobId: string): LocalJob | undefined {
    return this.jobs.get(jobId);
  }
}

class ClientException extends Error {}

type Body = Record<string, unknown>;

/**
 * The Batch API (REST-JSON, `POST /v1/<operation>`) in front of the local jobs, for the subset
 * mlcycle uses: ListJobs by name and TerminateJob. Handlers use the real @aws-sdk/client-batch
 * with AWS_ENDPOINT_URL_BATCH pointed here, as they do Step Functions'.
 */
export function handleBatchCall(jobs: LocalJobs, operation: string, body: Body): unknown {
  switch (operation) {
    case 'listjobs': {
      if (typeof body.jobQueue !== 'string') throw new ClientException('jobQueue is required');
      const filters = Array.isArray(body.filters)
        ? (body.filters as { name?: string; values?: string[] }[])
        : [];
      const name = filters.find((f) => f.name === 'JOB_NAME')?.values?.[0];
      return {
        jobSummaryList: jobs.list(body.jobQueue, name).map((j) => ({
          jobId: j.jobId,
          jobName: j.jobName,
          status: j.status,
          createdAt: j.createdAt,
        })),
      };
    }
    case 'terminatejob': {
      const job = typeof body.jobId === 'string' ? jobs.get(body.jobId) : undefined;
      if (!job) throw new ClientException(`job ${String(body.jobId)} does not exist`);
      if (job.status === 'RUNNING')
        job.terminate(typeof body.reason === 'string' ? body.reason : 'terminated');
      return {};
    }
    default:
      throw new ClientException(`operation ${operation} is not supported by the local runtime`);
  }
}

export function startBatchApiServer(jobs: LocalJobs, port = 0): Promise<JsonApiServer> {
  return serveJsonApi(port, 'application/json', (req, body) => {
    const operation = (req.url ?? '')
      .replace(/^\/v1\//, '')
      .replace(/\?.*$/, '')
      .toLowerCase();
    try {
      return { status: 200, payload: handleBatchCall(jobs, operation, body) };
    } catch (err) {
      const client = err instanceof ClientException;
      return {
        status: client ? 400 : 500,
        payload: { message: (err as Error).message },
        headers: { 'x-amzn-errortype': client ? 'ClientException' : 'ServerException' },
      };
    }
  });
}
