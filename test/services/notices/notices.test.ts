import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoticeLog } from '../../../lambdas/adapters/notices/notice-log.js';
import { noticesSchema } from '../../../lambdas/contracts/config-notices.js';
import { deployedNotice } from '../../../lambdas/domain/notices/notice.js';
import {
  type ExecutionNoticeDeps,
  noticeOfSucceededExecution,
} from '../../../lambdas/services/notices/execution-notices.js';
import { notifyOnce } from '../../../lambdas/services/notices/notify.js';
import { noticeRollback } from '../../../lambdas/services/notices/stage-notices.js';
import { startTestDynamo, type TestDynamo } from '../../support/emulators.js';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:mlcycle-lifecycle:run-churn-1';

/** A Slack incoming webhook on 127.0.0.1 recording each post; answers `status`. */
async function startWebhook() {
  const hook = { url: '', texts: [] as string[], status: 200, server: undefined as Server | undefined };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      hook.texts.push((JSON.parse(body) as { text: string }).text);
      res.writeHead(hook.status).end(hook.status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T1/B1/secret`;
  hook.server = server;
  return hook;
}

const deployState = {
  model: 'churn',
  stage: 'production',
  requestedBy: 'dana@studio.example',
  reason: 'weekly',
  approval: {
    requestId: 'r1',
    approvedBy: [{ approver: 'alice@studio.example', comment: '', decidedAt: 'x' }],
  },
  deployment: { version: '1.3.0', previousVersion: '1.2.0', ledgerSeq: 7, supersededBy: null },
};

describe('notices: once per event, on the channels the config lets through', () => {
  let dynamo: TestDynamo;
  let hook: Awaited<ReturnType<typeof startWebhook>>;
  let log: NoticeLog;
  const emails: { subject: string; message: string }[] = [];
  let failEmail = false;
  let now = new Date('2026-12-01T12:00:00Z');
  let notices = noticesSchema.parse({});

  const deps = (slack = true): ExecutionNoticeDeps => ({
    notices: log,
    alerts: {
      publish: async (a) => {
        if (failEmail) throw new Error('SNS: Throttling');
        emails.push(a);
        return { id: String(emails.length) };
      },
    },
    config: () => ({ notices, ...(slack ? { slackWebhookUrl: hook.url } : {}) }),
    executions: { lastState: async () => undefined },
    apiBaseUrl: 'https://api.example/',
    clientBaseUrl: 'https://cdn.example',
    logger: { warn: () => undefined },
    clock: () => now,
  });

  beforeAll(async () => {
    [dynamo, hook] = await Promise.all([startTestDynamo(), startWebhook()]);
    log = new NoticeLog(dynamo.doc, await dynamo.newTable(), () => now);
  });
  afterAll(async () => {
    await new Promise((done) => (hook?.server ? hook.server.close(done) : done(undefined)));
    await dynamo?.stop();
  });

  it('a deploy is told once, however many times its event is delivered, even at once', async () => {
    emails.length = 0;
    hook.texts.length = 0;
    const event = { executionArn: ARN, output: JSON.stringify(deployState) };
    const results = await Promise.all([1, 2, 3, 4].map(() => noticeOfSucceededExecution(deps(), event)));
    expect(results.filter((r) => r.outcome !== null)).toHaveLength(1);
    expect(results.every((r) => r.notice === 'deployed:churn:production:7')).toBe(true);
    expect(await noticeOfSucceededExecution(deps(), event)).toEqual({
      notice: 'deployed:churn:production:7',
      outcome: null,
    });
    expect(emails).toHaveLength(1);
    expect(emails[0]?.subject).toBe('[mlcycle] churn 1.3.0 deployed to production');
    expect(emails[0]?.message).toContain('churn 1.3.0 now serves production (was 1.2.0): ledger entry #7.');
    expect(emails[0]?.message).toContain('Approved by alice@studio.example.');
    expect(emails[0]?.message).toContain('Status: https://api.example/status/churn');
    expect(emails[0]?.message).toContain('Client manifest: https://cdn.example/models/churn/production');
    expect(hook.texts).toHaveLength(1);
    expect(await log.get('deployed:churn:production:7')).toMatchObject({
      kind: 'deployed',
      channels: { email: 'sent', slack: 'sent' },
    });
  });

  it('reads the final state from the history when the event left the output out', async () => {
    emails.length = 0;
    const d = {
      ...deps(false),
      executions: {
        lastState: async () => ({ ...deployState, deployment: { ...deployState.deployment, ledgerSeq: 8 } }),
      },
    };
    expect(await noticeOfSucceededExecution(d, { executionArn: ARN })).toMatchObject({
      notice: 'deployed:churn:production:8',
      outcome: { email: 'sent', slack: expect.stringContaining('no Slack webhook') },
    });
    expect(emails).toHaveLength(1);
  });

  it('a skipped retrain is told with its cause; an execution that did neither is not', async () => {
    emails.length = 0;
    const skipped = {
      model: 'churn',
      stage: 'staging',
      requestedBy: 'mlcycle-schedule',
      skipped: {
        Error: 'RetrainSkipped',
        Cause: 'the dataset sha256 abc… and settings are those of churn 1.3.0 (run r9)',
      },
    };
    const out = await noticeOfSucceededExecution(deps(false), {
      executionArn: `${ARN}-skip`,
      output: JSON.stringify(skipped),
    });
    expect(out.notice).toBe('retrain-skipped:run-churn-1-skip');
    expect(emails[0]?.subject).toBe('[mlcycle] churn retrain for staging skipped: nothing new to train on');
    expect(emails[0]?.message).toContain(
      'the dataset sha256 abc… and settings are those of churn 1.3.0 (run r9)',
    );
    expect(
      await noticeOfSucceededExecution(deps(), {
        executionArn: `${ARN}-x`,
        output: JSON.stringify({ model: 'churn', stage: 'staging' }),
      }),
    ).toEqual({ notice: null, outcome: null });
  });

  it('a sweep that deployed its best trial is told as the sweep’s end, once per sweep, with its trials', async () => {
    emails.length = 0;
    const sweepResult = {
      id: 'churn-staging-sweep-1',
      metric: 'auc',
      direction: 'max',
      best: 2,
      trials: [
        { index: 0, status: 'evaluated', value: 0.81 },
        { index: 1, status: 'stopped', value: null },
        { index: 2, status: 'evaluated', value: 0.8512 },
        { index: 3, status: 'failed', value: null },
      ],
    };
    const output = JSON.stringify({
      ...deployState,
      stage: 'staging',
      deployment: { ...deployState.deployment, ledgerSeq: 4 },
      sweepResult,
    });
    const first = await noticeOfSucceededExecution(deps(false), { executionArn: `${ARN}-sweep`, output });
    expect(first.notice).toBe('sweep-finished:churn-staging-sweep-1');
    expect(
      await noticeOfSucceededExecution(deps(false), { executionArn: `${ARN}-sweep`, output }),
    ).toMatchObject({ outcome: null });
    expect(emails.map((e) => e.subject)).toEqual([
      '[mlcycle] churn sweep finished: trial #2 (auc 0.8512) deployed to staging as 1.3.0',
    ]);
    expect(emails[0]?.message).toContain('ran 4 trials: 2 evaluated, 1 stopped early, 1 failed');
    expect(emails[0]?.message).toContain('churn 1.3.0 now serves staging (was 1.2.0): ledger entry #4.');
  });

  it('an email failure gives the claim back, so the redelivery sends it (once)', async () => {
    emails.length = 0;
    const notice = deployedNotice(
      {
        model: 'ltv',
        stage: 'staging',
        version: '2.0.0',
        previousVersion: null,
        ledgerSeq: 1,
        requestedBy: 'a@b.c',
        reason: '',
        approvedBy: [],
      },
      { status: 'https://api.example/status/ltv' },
    );
    failEmail = true;
    await expect(notifyOnce(deps(false), notice)).rejects.toThrow('SNS: Throttling');
    failEmail = false;
    expect(await notifyOnce(deps(false), notice)).toMatchObject({ email: 'sent' });
    expect(await notifyOnce(deps(false), notice)).toBeNull();
    expect(emails).toHaveLength(1);
    expect(emails[0]?.message).toContain('No approval was required.');
  });

  it('a Slack failure is recorded, not retried (the email went)', async () => {
    hook.status = 500;
    const notice = deployedNotice(
      {
        model: 'ltv',
        stage: 'staging',
        version: '2.1.0',
        previousVersion: '2.0.0',
        ledgerSeq: 2,
        requestedBy: 'a@b.c',
        reason: '',
        approvedBy: [],
      },
      { status: 'https://api.example/status/ltv' },
    );
    expect(await notifyOnce(deps(), notice)).toEqual({ email: 'sent', slack: 'failed' });
    expect(await notifyOnce(deps(), notice)).toBeNull();
    hook.status = 200;
  });

  it('quiet hours and minimum levels hold a notice back and record why; a rollback (warning) still goes', async () => {
    emails.length = 0;
    hook.texts.length = 0;
    notices = noticesSchema.parse({
      minLevel: { slack: 'warning' },
      quietHours: { from: '22:00', to: '07:00', timeZone: 'UTC' },
    });
    now = new Date('2026-12-01T23:00:00Z');
    const out = await noticeOfSucceededExecution(deps(), {
      executionArn: ARN,
      output: JSON.stringify({ ...deployState, deployment: { ...deployState.deployment, ledgerSeq: 9 } }),
    });
    expect(out.outcome?.email).toMatch(/^held back: quiet hours 22:00–07:00 UTC/);
    expect(out.outcome?.slack).toBe('below notices.minLevel.slack (warning)');
    expect(emails).toEqual([]);
    const rollback = await noticeRollback(deps(), {
      model: 'churn',
      stage: 'production',
      seq: 10,
      action: 'rollback',
      fromVersion: '1.3.0',
      toVersion: '1.2.0',
      actor: 'bob@studio.example',
      reason: 'crash rate up',
      at: now.toISOString(),
      evidence: {},
    });
    expect(rollback).toEqual({ email: 'sent', slack: 'sent' });
    expect(emails[0]?.subject).toBe('[mlcycle] churn production rolled back to 1.2.0');
    expect(emails[0]?.message).toContain(
      'bob@studio.example rolled production of churn back from 1.3.0 to 1.2.0: ledger entry #10.',
    );
    expect(emails[0]?.message).toContain('Reason: crash rate up');
    notices = noticesSchema.parse({});
    now = new Date('2026-12-01T12:00:00Z');
  });

  it('a rollback notice that cannot be sent is reported, never thrown (the rollback stands)', async () => {
    failEmail = true;
    const out = await noticeRollback(deps(false), {
      model: 'churn',
      stage: 'production',
      seq: 11,
      action: 'rollback',
      fromVersion: '1.2.0',
      toVersion: '1.1.0',
      actor: 'bob@studio.example',
      reason: 'again',
      at: now.toISOString(),
      evidence: {},
    });
    failEmail = false;
    expect(out).toEqual({ error: 'SNS: Throttling' });
  });
});
