import { describe, expect, it } from 'vitest';
import { noticesSchema } from '../../lambdas/contracts/config-notices.js';
import { executionStatusChangeEvent } from '../../lambdas/contracts/execution-events.js';
import { makeExecutionSucceededHandler } from '../../lambdas/handlers/execution-succeeded.js';
import type { ExecutionNoticeDeps } from '../../lambdas/services/notices/execution-notices.js';

const SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:mlcycle-lifecycle';
const ARN = 'arn:aws:states:us-east-1:000000000000:execution:mlcycle-lifecycle:run-churn-9';

function world() {
  const claimed = new Set<string>();
  const sent: { subject: string; message: string }[] = [];
  const deps: ExecutionNoticeDeps = {
    notices: {
      claim: async ({ noticeId }) => !claimed.has(noticeId) && Boolean(claimed.add(noticeId)),
      release: async (id) => {
        claimed.delete(id);
      },
      markSent: async () => undefined,
    },
    alerts: {
      publish: async (a) => {
        sent.push(a);
        return { id: String(sent.length) };
      },
    },
    config: () => ({ notices: noticesSchema.parse({}) }),
    executions: { lastState: async () => undefined },
    apiBaseUrl: 'http://127.0.0.1:4000',
    clientBaseUrl: 'http://127.0.0.1:4000',
  };
  return { deps, sent, handler: makeExecutionSucceededHandler(() => deps) };
}

const event = (status: string, output?: unknown) => {
  const e = executionStatusChangeEvent(
    {
      executionArn: ARN,
      stateMachineArn: SM,
      name: 'run-churn-9',
      status: 'SUCCEEDED',
      startDate: 1,
      stopDate: 2,
      input: '{}',
      ...(output === undefined ? {} : { output: JSON.stringify(output) }),
    },
    { region: 'us-east-1', account: '000000000000', id: 'e-1' },
  );
  return { ...e, detail: { ...e.detail, status } };
};

describe('executionSucceeded handler (the SUCCEEDED status-change event)', () => {
  it('notices a deploy from the event’s output, once for two deliveries', async () => {
    const w = world();
    const output = {
      model: 'churn',
      stage: 'staging',
      requestedBy: 'dana@studio.example',
      deployment: { version: '1.4.0', previousVersion: '1.3.0', ledgerSeq: 3, supersededBy: null },
    };
    expect(await w.handler(event('SUCCEEDED', output), {} as never)).toEqual({
      notice: 'deployed:churn:staging:3',
      outcome: { email: 'sent', slack: 'no Slack webhook (monitoring.alerts.slackWebhookUrl)' },
    });
    expect(await w.handler(event('SUCCEEDED', output), {} as never)).toEqual({
      notice: 'deployed:churn:staging:3',
      outcome: null,
    });
    expect(w.sent.map((m) => m.subject)).toEqual(['[mlcycle] churn 1.4.0 deployed to staging']);
  });

  it('refuses an event of another status (the rule sends only SUCCEEDED): nothing is sent', async () => {
    const w = world();
    await expect(w.handler(event('FAILED', { model: 'churn' }), {} as never)).rejects.toThrow(/status/);
    expect(w.sent).toEqual([]);
  });
});
