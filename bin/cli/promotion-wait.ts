import { DescribeExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import type { ApprovalRequest } from '../../lambdas/domain/approval/types.js';
import type { StartedExecution } from '../../lambdas/services/pipeline/start.js';
import { inProcessStack } from './context.js';
import { followExecution, reportEnd } from './pipeline.js';
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

/**
 * Starts a promotion execution (`models promote`, a rollout start, a canary's promotion) and
 * reports how it stands: followed to its end with --wait, else once the approvers have been
 * emailed (said only once the request exists: a promotion refused first says why).
 */
export async function startPromotion(
  ctx: CliContext,
  body: { model: string; version: string; stage: string; reason: string; rollout?: { percent: number } },
  what: string,
  wait: boolean,
): Promise<void> {
  const started = await ctx.control.request<StartedExecution>('POST', '/promotions', body);
  const { executionArn } = started;
  ctx.output.info(`${what} started as ${started.requestedBy}: ${executionArn}`);
  if (wait || inProcessStack()) {
    reportEnd(ctx, executionArn, await followExecution(ctx, executionArn));
    return;
  }
  const outcome = await untilRequested(ctx, executionArn, body);
  if (outcome.kind === 'ended') return reportEnd(ctx, executionArn, outcome.final);
  if (outcome.kind === 'requested') {
    const r = outcome.request;
    const emailed = r.approvers.filter((a) => a !== r.requestedBy.toLowerCase());
    ctx.output.result(
      { executionArn, status: 'RUNNING', requestId: r.requestId, emailed, quorum: r.quorum },
      () =>
        `approvers have been emailed (${r.quorum} of ${emailed.join(', ')} needed); request ${r.requestId}`,
    );
    return;
  }
  ctx.output.result(
    { executionArn, status: 'RUNNING' },
    () => `still running before approval; follow it with: mlcycle pipeline status ${executionArn}`,
  );
}
