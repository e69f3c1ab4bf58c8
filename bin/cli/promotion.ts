import type { Command } from 'commander';
import { ApprovalStore } from '../../lambdas/adapters/approval/approval-store.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import type { DecisionResult } from '../../lambdas/services/approvals/decide.js';
import { startPromotion } from './promotion-wait.js';
import { inContext, type RegisterCommands } from './types.js';

function modelsCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'models') ?? program.command('models');
}

/**
 * `models promote|approve|reject`: a promotion runs the same state machine as a training run
 * (gate → approve → deploy, with the target environment's policy), and a decision from the CLI
 * goes through the same service as a click on an emailed link.
 */
export const registerPromotionCommands: RegisterCommands = (program, context) => {
  const models = modelsCommand(program);

  models
    .command('promote <model> <version>')
    .description("promote an existing version to a stage through that stage's gates and approvals")
    .requiredOption('-s, --stage <stage>', 'target environment')
    .option('--reason <text>', 'why (shown to approvers and kept in the ledger)', '')
    .option('--wait', 'follow the promotion until it ends')
    .option('--json', 'print JSON')
    .action(async (model: string, version: string, opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        await startPromotion(
          ctx,
          { model, version, stage: opts.stage, reason: opts.reason },
          `promotion of ${model} ${version} to ${opts.stage}`,
          Boolean(opts.wait),
        );
      });
    });

  for (const decision of ['approve', 'reject'] as const) {
    models
      .command(`${decision} <requestId>`)
      .description(
        `${decision} a pending promotion request (as your AWS principal with --aws; locally as --as or the current user)`,
      )
      .option('--comment <text>', 'kept with the decision and in the ledger', '')
      .option('--json', 'print JSON')
      .action(async (requestId: string, opts: { comment: string }, cmd: Command) => {
        await inContext(context, cmd, async (ctx) => {
          if (decision === 'reject' && !opts.comment.trim()) {
            throw new ValidationError(
              'a rejection needs --comment "<why>" so the requestor knows what to fix',
            );
          }
          // The same decision service as an emailed link, behind the control API: the server
          // knows who decides, and the CLI never sees a task token.
          const result = await ctx.control.request<DecisionResult>(
            'POST',
            `/approvals/${encodeURIComponent(requestId)}/decisions`,
            { decision, comment: opts.comment },
          );
          // A decision that was taken is reported, whatever became of its delivery.
          const delivering =
            result.delivery === 'pending'
              ? ' (recorded; Step Functions has not confirmed it yet: it is being delivered, with retries)'
              : '';
          ctx.output.result(result, () => {
            const state =
              result.outcome === 'approved'
                ? `quorum reached (${result.approvals}/${result.needed}): the pipeline deploys${delivering}`
                : result.outcome === 'rejected'
                  ? `the promotion is stopped${delivering}`
                  : result.outcome === 'waiting'
                    ? `${result.approvals}/${result.needed} approvals so far`
                    : result.outcome === 'closed'
                      ? `recorded, but the pipeline execution had already ended: nothing will deploy${result.note ? ` (${result.note})` : ''}`
                      : `the request is ${result.outcome}`;
            return `${decision === 'approve' ? 'approved' : 'rejected'} ${requestId} as ${result.approver}: ${state}`;
          });
          if (result.outcome === 'closed') process.exitCode = 1;
        });
      });
  }

  models
    .command('pending [model]')
    .description('promotion requests waiting for approvals')
    .option('--json', 'print JSON')
    .action(async (model: string | undefined, _opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        const store = new ApprovalStore(ctx.doc, ctx.tableName);
        const pending = await store.listPending(model);
        // Never print the task token: whoever holds it can complete the approval.
        const rows = await Promise.all(
          pending.map(async (r) => ({
            requestId: r.requestId,
            model: r.model,
            version: r.version,
            stage: r.stage,
            requestedBy: r.requestedBy,
            approvals: `${(await store.decisions(r.requestId)).filter((d) => d.decision === 'approve').length}/${r.quorum}`,
            gates: r.gate.passed ? 'pass' : 'FAIL',
            expiresAt: r.expiresAt,
          })),
        );
        ctx.output.table(rows);
      });
    });
};
