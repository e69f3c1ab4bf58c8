import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalLinkIn, readOutbox } from '../../bin/cli/demo-approver.js';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import type { ApprovalRequest } from '../../lambdas/domain/approval/types.js';
import { recordDecision } from '../../lambdas/services/approvals/decide.js';
import { churnCsv } from '../../local/data/churn.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import type { ExecutionRecord } from '../../local/stepfunctions/execution-record.js';
import { startAs, testConfig } from '../support/local-stack.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A restart of `mlcycle up` while an execution waits at Approve: executions do not survive it,
 * so they are failed, and say so — their requests closed, their runs failed, the reason in
 * `pipeline status` (DescribeExecution) and on the approval page. Both ways the runtime goes
 * away: stopped (Ctrl-C), and killed (found RUNNING on disk at the next start).
 */
describe('restarting the local runtime while an execution waits for approval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-restart-'));
  const config = testConfig();
  let first: LocalStack | undefined;
  let second: LocalStack | undefined;
  let waiting: { executionArn: string; link: string; request: ApprovalRequest };
  /** An execution the first runtime had running when it was killed (its record still RUNNING). */
  let killed: { executionArn: string; request: ApprovalRequest };

  const stores = (stack: LocalStack) => {
    const doc = createDocumentClient(stack.dynamo.client);
    return {
      approvals: new ApprovalStore(doc, stack.endpoints.tableName),
      registry: new Registry(doc, stack.endpoints.tableName),
    };
  };

  beforeAll(async () => {
    // The same ports across the restart, as `mlcycle up` on one machine: the handlers' clients,
    // built once per process, stay pointed at the right emulators in this one test process.
    const ports = {
      dynamodb: await freePort(),
      s3: await freePort(),
      sfn: await freePort(),
      batch: await freePort(),
      api: await freePort(),
    };
    first = await startLocalStack({ config, dir, fresh: true, ports });
    await new S3Objects(first.s3.client).put(
      { bucket: first.endpoints.bucket, key: 'datasets/churn/churn.csv' },
      churnCsv({ rows: 3000, seed: 11 }),
      'text/csv',
    );
    const executionArn0 = await startAs(first, 'requestor@studio.test', {
      model: 'churn',
      stage: 'staging',
      reason: 'test',
    });
    const execution = first.engine.describe(executionArn0);
    const deadline = Date.now() + 60_000;
    let link: string | undefined;
    while (!link && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      link = readOutbox(first.endpoints.outboxDir)
        .map((m) => approvalLinkIn(m.text))
        .find(Boolean);
    }
    if (!link) throw new Error('no approval email arrived');
    const { approvals } = stores(first);
    const requestId = decodeURIComponent(new URL(link).pathname.split('/').pop() ?? '');
    waiting = { executionArn: execution.executionArn, link, request: await approvals.require(requestId) };

    // The on-disk state a kill leaves: another execution's record still RUNNING at Approve, and
    // its request pending (a copy of this one's, under another execution).
    const record = JSON.parse(
      readFileSync(join(dir, 'executions', `${execution.name}.json`), 'utf8'),
    ) as ExecutionRecord;
    const name = `${execution.name}-killed`;
    const executionArn = `${execution.executionArn}-killed`;
    writeFileSync(
      join(dir, 'executions', `${name}.json.killed`),
      JSON.stringify({ ...record, name, executionArn, status: 'RUNNING' }),
    );
    const request: ApprovalRequest = {
      ...waiting.request,
      requestId: `${requestId}k`,
      taskToken: `local:${name}:token`,
      executionArn,
      version: `${waiting.request.version}-k`,
    };
    await approvals.create(request);
    killed = { executionArn, request };

    await first.stop();
    first = undefined;
    // As if the first runtime had been killed with that execution running.
    const killedFile = join(dir, 'executions', `${name}.json`);
    writeFileSync(killedFile, readFileSync(`${killedFile}.killed`));
    rmSync(`${killedFile}.killed`);

    second = await startLocalStack({ config, dir, ports });
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const describeExecution = async (executionArn: string) => {
    const sfn = new SFNClient({
      region: LOCAL_REGION,
      endpoint: second?.endpoints.sfn,
      credentials: LOCAL_CREDENTIALS,
    });
    try {
      return await sfn.send(new DescribeExecutionCommand({ executionArn }));
    } finally {
      sfn.destroy();
    }
  };

  it('stopped: the execution failed with the reason (pipeline status), its request closed, its run failed', async () => {
    if (!second) throw new Error('no runtime');
    const d = await describeExecution(waiting.executionArn);
    expect(d.status).toBe('FAILED');
    expect(d.error).toBe('mlcycle.LocalRuntimeStopped');
    expect(d.cause).toContain('mlcycle up was stopped while this execution was running (at Approve)');
    expect(d.cause).toContain('nothing deploys');

    const { approvals, registry } = stores(second);
    expect(await approvals.require(waiting.request.requestId)).toMatchObject({
      status: 'closed',
      outcomeNote:
        'the pipeline execution failed (mlcycle.LocalRuntimeStopped) before a decision was reached: nothing will deploy',
    });
    expect(await registry.runs.getRun('churn', waiting.request.runId)).toMatchObject({
      status: 'failed',
      failure: { kind: 'failed', error: 'mlcycle.LocalRuntimeStopped' },
    });
    expect((await registry.versions.getVersion('churn', waiting.request.version))?.status).toBe('failed');

    // The emailed link (served by the new runtime) says the request is closed and why.
    const page = await fetch(waiting.link);
    expect(page.status).toBe(410);
    const html = await page.text();
    expect(html).toContain('This request is closed');
    expect(html).toContain('mlcycle.LocalRuntimeStopped');

    // An approval through the CLI is refused and not recorded.
    await expect(
      recordDecision(
        { store: approvals, registry, sfn: { send: async () => ({}) } },
        {
          requestId: waiting.request.requestId,
          approver: 'lead@studio.test',
          decision: 'approve',
          comment: '',
          via: 'cli',
        },
      ),
    ).rejects.toMatchObject({ name: 'ApprovalExpired' });
  });

  it('killed: the execution found running on disk is failed on the next start, and its request closed', async () => {
    if (!second) throw new Error('no runtime');
    const d = await describeExecution(killed.executionArn);
    expect(d.status).toBe('FAILED');
    expect(d.error).toBe('mlcycle.LocalRuntimeRestarted');
    expect(d.cause).toContain('mlcycle up went away while this execution was running (at Approve)');
    expect(second.engine.describe(killed.executionArn)).toMatchObject({ endNotified: true });
    expect(await stores(second).approvals.require(killed.request.requestId)).toMatchObject({
      status: 'closed',
      outcomeNote:
        'the pipeline execution failed (mlcycle.LocalRuntimeRestarted) before a decision was reached: nothing will deploy',
    });
  });
});
