import type { ApprovalAsk } from '../../../lambdas/domain/approval/request.js';
import { buildApprovalRequest } from '../../../lambdas/domain/approval/request.js';
import type { ApprovalRequest, Decision, DecisionKind } from '../../../lambdas/domain/approval/types.js';

export const NOW = new Date('2030-03-01T12:00:00.000Z');

export function ask(overrides: Partial<ApprovalAsk> = {}): ApprovalAsk {
  return {
    taskToken: 'AAAA-task-token-of-the-approve-state',
    executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:mlcycle-lifecycle:run-1',
    model: 'churn',
    stage: 'production',
    version: '1.2.0',
    runId: '20300301T110000Z-abc',
    requestedBy: 'Data.Scientist@Studio.test',
    reason: 'better recall',
    approvers: ['A@studio.test', 'b@studio.test', ' c@Studio.test '],
    quorum: 2,
    timeoutSeconds: 72 * 3600,
    reminderSecondsBeforeExpiry: 6 * 3600,
    gate: {
      passed: true,
      approvalRequired: true,
      servingVersion: '1.1.0',
      results: [
        {
          metric: 'auc',
          kind: 'absolute',
          operator: '>=',
          threshold: 0.7,
          value: 0.81,
          required: true,
          passed: true,
          detail: 'auc 0.8100 >= 0.7000',
        },
      ],
    },
    metrics: { auc: 0.81, f1: 0.6 },
    ...overrides,
  };
}

export function request(
  overrides: Partial<ApprovalRequest> = {},
  askOverrides: Partial<ApprovalAsk> = {},
): ApprovalRequest {
  return { ...buildApprovalRequest(ask(askOverrides), null, NOW), ...overrides };
}

export function decision(approver: string, kind: DecisionKind, comment = '', at = NOW): Decision {
  return {
    requestId: request().requestId,
    approver,
    decision: kind,
    comment,
    decidedAt: at.toISOString(),
    via: 'link',
  };
}
