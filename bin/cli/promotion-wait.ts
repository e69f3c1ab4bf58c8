import { DescribeExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import type { ApprovalRequest } from '../../lambdas/domain/approval/types.js';
import type { CliContext } from './types.js';

export type PromotionStart =
  | { readonly kind: 'requested'; readonly request: ApprovalRequest }
  | { readonly kind: 'ended'; readonly final: DescribeExecutionCommandOutput }
  | { readonly kind: 'pending' };

/**
 * Waits until a promotion's approval request exists (the approvers have been emailed) or its
 * execution has ended (a refusal at Gate, a stage that needs no approval), whichever comes first;
 * 'pending' if neither happened within `timeoutMs`.
 */
export async function untilRequested(
  ctx: CliContext,
  executionArn: string,
  what: { model: string; version: string; stage: string },
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<PromotionStart> {
  const store = new ApprovalStore(ctx.doc, ctx.tableName);
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const final = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (final.status !== 'RUNNING') return { kind: 'ended', final };
    const request = await store.findForVersion(what.model, what.version, what.stage);
    if (request?.executionArn === executionArn) return { kind: 'requested', request };
    if (Date.now() > deadline) return { kind: 'pending' };
    await new Promise((r) => setTimeout(r, options.pollMs ?? 300));
  }
}
