import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchClient, DescribeJobsCommand, type JobStatus, ListJobsCommand } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BatchJobLogs,
  type JobLogSource,
  LocalJobLogs,
} from '../../../lambdas/adapters/pipeline/job-logs.js';
import { readJobLogs } from '../../../lambdas/services/registry/run-logs.js';

const batch = mockClient(BatchClient);
const logs = mockClient(CloudWatchLogsClient);

function job(status: JobStatus, withStream = true) {
  return {
    jobs: [
      {
        jobId: 'job-2',
        jobName: 'mlcycle-ltv-r1',
        jobQueue: 'q',
        status,
        jobDefinition: 'd',
        startedAt: 1,
        ecsProperties: {
          taskProperties: [
            {
              containers: [
                {
                  name: 'stage-in',
                  image: 'i',
                  logStreamName: 'ltv/stage-in/t1',
                  logConfiguration: { logDriver: 'awslogs' as const, options: { 'awslogs-group': '/g' } },
                },
                ...(withStream
                  ? [
                      {
                        name: 'trainer',
                        image: 'i',
                        logStreamName: 'ltv/trainer/t1',
                        logConfiguration: {
                          logDriver: 'awslogs' as const,
                          options: { 'awslogs-group': '/g' },
                        },
                      },
                    ]
                  : []),
              ],
            },
          ],
        },
      },
    ],
  };
}

describe('BatchJobLogs (runs logs on AWS)', () => {
  beforeEach(() => {
    batch.reset();
    logs.reset();
  });
  const source = () =>
    new BatchJobLogs(
      {
        batch: new BatchClient({ region: 'eu-west-1' }),
        logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
      },
      { queue: 'mlcycle-training', name: 'mlcycle-ltv-r1' },
    );

  it('finds the newest job of that name on the queue and reads its trainer container’s stream, page by page', async () => {
    batch.on(ListJobsCommand).resolves({
      jobSummaryList: [
        { jobId: 'job-1', jobName: 'mlcycle-ltv-r1', createdAt: 100 },
        { jobId: 'job-2', jobName: 'mlcycle-ltv-r1', createdAt: 200 },
      ],
    });
    batch.on(DescribeJobsCommand, { jobs: ['job-2'] }).resolves(job('SUCCEEDED'));
    logs
      .on(GetLogEventsCommand, { logGroupName: '/g', logStreamName: 'ltv/trainer/t1', startFromHead: true })
      .resolves({ events: [{ message: 'epoch 1\n' }], nextForwardToken: 'f/1' })
      .on(GetLogEventsCommand, {
        logGroupName: '/g',
        logStreamName: 'ltv/trainer/t1',
        startFromHead: true,
        nextToken: 'f/1',
      })
      .resolves({ events: [{ message: 'done' }], nextForwardToken: 'f/2' })
      .on(GetLogEventsCommand, {
        logGroupName: '/g',
        logStreamName: 'ltv/trainer/t1',
        startFromHead: true,
        nextToken: 'f/2',
      })
      .resolves({ events: [], nextForwardToken: 'f/2' });
    const lines: string[] = [];
    await readJobLogs(source(), { follow: true, pollMs: 1, onLines: (l) => lines.push(...l) });
    expect(lines).toEqual(['epoch 1', 'done']);
    expect(batch.commandCalls(ListJobsCommand)[0]?.args[0].input).toEqual({
      jobQueue: 'mlcycle-training',
      filters: [{ name: 'JOB_NAME', values: ['mlcycle-ltv-r1'] }],
    });
  });

  it('a job still waiting for capacity has no stream yet: nothing, and not ended', async () => {
    batch
      .on(ListJobsCommand)
      .resolves({ jobSummaryList: [{ jobId: 'job-2', jobName: 'mlcycle-ltv-r1', createdAt: 1 }] });
    batch.on(DescribeJobsCommand).resolves(job('RUNNABLE', false));
    expect(await source().read(undefined)).toEqual({ lines: [], cursor: undefined, ended: false });
    expect(logs.commandCalls(GetLogEventsCommand)).toHaveLength(0);
  });

  it('a job the queue does not know is a NotFoundError naming it', async () => {
    batch.on(ListJobsCommand).resolves({ jobSummaryList: [] });
    await expect(source().read(undefined)).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringContaining('no Batch job mlcycle-ltv-r1 on queue mlcycle-training'),
    });
  });
});

describe('LocalJobLogs (runs logs on the embedded default)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-job-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('follows a file as it grows, whole lines only, until the run no longer waits for the job', async () => {
    const file = join(dir, 'job.log');
    writeFileSync(file, 'one\ntw');
    let ended = false;
    const source: JobLogSource = new LocalJobLogs(file, async () => ended);
    const first = await source.read(undefined);
    expect(first).toMatchObject({ lines: ['one'], ended: false });
    appendFileSync(file, 'o\nthree');
    ended = true;
    const second = await source.read(first.cursor);
    expect(second.lines).toEqual(['two', 'three']);
    const lines: string[] = [];
    await readJobLogs(new LocalJobLogs(file, async () => true), {
      follow: true,
      pollMs: 1,
      onLines: (l) => lines.push(...l),
    });
    expect(lines).toEqual(['one', 'two', 'three']);
  });

  it('a job that never ran here is a NotFoundError naming the file', async () => {
    await expect(new LocalJobLogs(join(dir, 'none.log'), async () => true).read(undefined)).rejects.toThrow(
      /no log file .*none\.log: the job never ran on this machine/,
    );
  });
});
