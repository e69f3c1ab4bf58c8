import type { Command } from 'commander';
import type { RolloutRecord } from '../../lambdas/contracts/rollout-record.js';
import { rolloutStatusBase } from '../../lambdas/contracts/s3-layout.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import type { RolloutStatus } from '../../lambdas/services/rollouts/status.js';
import { startPromotion } from './promotion-wait.js';
import { pageUrl } from './run-pages.js';
import { inContext, type RegisterCommands } from './types.js';

/** `--percent` as a number, or a one-line refusal naming the value. */
function percentOf(raw: string): number {
  const percent = Number(raw);
  if (!raw.trim() || !Number.isFinite(percent) || percent <= 0 || percent > 100) {
    throw new ValidationError(`--percent "${raw}" is not a share in (0, 100]; e.g. --percent 5`);
  }
  return percent;
}

const rolloutPath = (model: string, stage: string, action = '') =>
  `/rollouts/${encodeURIComponent(model)}/${encodeURIComponent(stage)}${action ? `/${action}` : ''}`;

const describeVariants = (r: Pick<RolloutRecord, 'steps'>) =>
  (r.steps[r.steps.length - 1]?.variants ?? [])
    .map((v) => `${v.name} ${v.version} ${v.weight / 100} %`)
    .join(', ');

/**
 * `rollout start|ramp|status|promote|abort` (docs/rollouts.md "Running a rollout"). A start and a
 * promote are promotions (the stage's gates and approvals); ramp, abort and status go to the
 * rollout routes of the control API as the caller, whose permissions the server decides.
 */
export const registerRolloutCommands: RegisterCommands = (program, context) => {
  const rollout = program.command('rollout').description('canary and blue-green rollouts to game clients');

  rollout
    .command('start <model>')
    .description(
      "serve a version to a share of players next to the serving one, after the stage's gates and approvals",
    )
    .requiredOption('-s, --stage <stage>', 'target environment')
    .requiredOption('--version <version>', 'the version to roll out (the canary)')
    .requiredOption('--percent <percent>', 'share of players for the canary, (0, 100], at most 2 decimals')
    .option('--reason <text>', 'why (shown to approvers and kept in the ledger)', '')
    .option('--wait', 'follow the start until it ends')
    .option('--json', 'print JSON')
    .action(async (model: string, opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        const percent = percentOf(opts.percent);
        const body = {
          model,
          version: opts.version,
          stage: opts.stage,
          reason: opts.reason,
          rollout: { percent },
        };
        await startPromotion(
          ctx,
          body,
          `rollout of ${model} ${opts.version} at ${percent} % on ${opts.stage}`,
          !!opts.wait,
        );
      });
    });

  rollout
    .command('ramp <model>')
    .description("grow the canary's share (never shrink it: that is a new rollout)")
    .requiredOption('-s, --stage <stage>', 'environment')
    .requiredOption('--percent <percent>', 'the new share of players for the canary')
    .option('--reason <text>', 'why (kept in the ledger)', '')
    .option('--json', 'print JSON')
    .action(async (model: string, opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        const body = { percent: percentOf(opts.percent), reason: opts.reason };
        const out = await ctx.control.request<{ rollout: RolloutRecord }>(
          'POST',
          rolloutPath(model, opts.stage, 'ramp'),
          body,
        );
        ctx.output.result(
          out,
          () => `rollout ${out.rollout.rolloutId} ramped: ${describeVariants(out.rollout)}`,
        );
      });
    });

  rollout
    .command('status <model>')
    .description('the rollout of a stage, its evidence per variant and the decision it supports now')
    .requiredOption('-s, --stage <stage>', 'environment')
    .option('--json', 'print JSON')
    .action(async (model: string, opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        const s = await ctx.control.request<RolloutStatus>('GET', rolloutPath(model, opts.stage));
        // The status page (charts), rewritten by the batch check after each aggregated batch.
        const page = s.rollout.batches.length
          ? await pageUrl(ctx, {
              bucket: ctx.bucket,
              key: `${rolloutStatusBase(model, s.rollout.rolloutId)}.html`,
            })
          : undefined;
        ctx.output.result(page ? { ...s, page } : s, () =>
          [
            `rollout ${s.rollout.rolloutId} (${s.rollout.status}): ${describeVariants(s.rollout)}`,
            `started ${s.rollout.startedAt} by ${s.rollout.startedBy}${s.rollout.ended ? `; ended ${s.rollout.ended.at} (${s.rollout.ended.kind}: ${s.rollout.ended.reason})` : ''}`,
            ...s.decision.variants.map(
              (v) =>
                `  ${v.name}: ${v.assigned} players${v.latencyP95 === undefined ? '' : `, p95 ${v.latencyP95.toFixed(1)} ms`}`,
            ),
            `decision: ${s.decision.action}${s.decision.winner ? ` (${s.decision.winner})` : ''}`,
            ...s.decision.reasons.map((r) => `  - ${r.message}`),
            ...(page ? [`page: ${page}`] : []),
          ].join('\n'),
        );
      });
    });

  rollout
    .command('promote <model>')
    .description("promote the active rollout's canary: a promotion through the stage's approvals")
    .requiredOption('-s, --stage <stage>', 'environment')
    .option('--reason <text>', 'why (shown to approvers and kept in the ledger)', '')
    .option('--wait', 'follow the promotion until it ends')
    .option('--json', 'print JSON')
    .action(async (model: string, opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        const s = await ctx.control.request<RolloutStatus>('GET', rolloutPath(model, opts.stage));
        if (s.rollout.status !== 'active') {
          throw new ValidationError(
            `rollout ${s.rollout.rolloutId} of ${model} ${opts.stage} is ${s.rollout.status}: there is no canary to promote`,
          );
        }
        const version = s.rollout.canaryVersion;
        const reason =
          opts.reason ||
          `promote the canary of rollout ${s.rollout.rolloutId} (decision: ${s.decision.action})`;
        await startPromotion(
          ctx,
          { model, version, stage: opts.stage, reason },
          `promotion of ${model} ${version} to ${opts.stage}`,
          !!opts.wait,
        );
      });
    });

  rollout
    .command('abort <model>')
    .description('end the rollout: every player back on the serving version')
    .requiredOption('-s, --stage <stage>', 'environment')
    .requiredOption('--reason <text>', 'why (kept in the ledger)')
    .option('--json', 'print JSON')
    .action(async (model: string, opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        if (!String(opts.reason).trim())
          throw new ValidationError('an abort needs --reason "<why>", kept in the ledger');
        const out = await ctx.control.request<{ rollout: RolloutRecord }>(
          'POST',
          rolloutPath(model, opts.stage, 'abort'),
          {
            reason: opts.reason,
          },
        );
        ctx.output.result(
          out,
          () =>
            `rollout ${out.rollout.rolloutId} aborted: ${model} ${opts.stage} serves ${out.rollout.controlVersion} to every player`,
        );
      });
    });
};
