import type { Command } from 'commander';
import type { BaselineAuditEntry } from '../../lambdas/domain/drift/baselines.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import type {
  BaselineListing,
  DecisionResult,
} from '../../lambdas/services/monitoring/baseline-decisions.js';
import { type CliContext, configuredModel, inContext } from './types.js';

/**
 * `drift baselines|use-baseline|discard-baseline|discard-batch`: a model's baseline versions and
 * the decisions about them and about bad batches. Everything goes through the control API, as the
 * caller the server authenticates (SigV4 on AWS, `--as` locally): the list, too, so it is the
 * server's view, with the audit trail.
 */
const path = (model: string, rest: string) => `/drift/${encodeURIComponent(model)}/${rest}`;

function auditLine(a: BaselineAuditEntry): string {
  const what = a.action === 'use-baseline' && a.previous ? `${a.target} (was ${a.previous})` : a.target;
  return `  ${a.at}  ${a.action.padEnd(16)} ${what}  by ${a.actor}: ${a.reason}`;
}

function listingText(l: BaselineListing): string {
  return [
    `${l.model}: ${l.versions.length} baseline${l.versions.length === 1 ? '' : 's'}, active ${l.active ?? 'none'}`,
    ...l.versions.map((v) =>
      [
        `${v.active ? '* ' : '  '}${v.id}  ${v.uploadedAt}  ${String(v.rows).padStart(8)} rows  ${String(v.columns).padStart(4)} columns  ${v.sourceKey}  (${v.uploadedBy})`,
        ...(v.discarded
          ? [`    discarded by ${v.discarded.by} at ${v.discarded.at}: ${v.discarded.reason}`]
          : []),
      ].join('\n'),
    ),
    'audit:',
    ...(l.audit.length ? l.audit.map(auditLine) : ['  (no decisions yet)']),
  ].join('\n');
}

function reasonOf(o: { reason: string }, what: string): string {
  if (!o.reason.trim())
    throw new ValidationError(`--reason must say why you ${what} (kept in the audit trail)`);
  return o.reason;
}

async function decide(
  ctx: CliContext,
  model: string,
  route: string,
  body: Record<string, string>,
  done: (out: DecisionResult) => string,
): Promise<void> {
  configuredModel(ctx, model);
  const out = await ctx.control.request<DecisionResult>('POST', path(model, route), body);
  // on stdout for people, stderr with --json (so stdout stays one JSON line)
  for (const w of out.warnings) ctx.output.info(`warning: ${w}`);
  ctx.output.result(out, () => done(out));
}

export function registerBaselineCommands(
  drift: Command,
  context: (cmd: Command) => Promise<CliContext>,
): void {
  drift
    .command('baselines <model>')
    .description('list the model’s baseline versions (* marks the active one) and the audit trail')
    .option('--json', 'print JSON')
    .action(async (model: string, _o, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        configuredModel(ctx, model);
        const listing = await ctx.control.request<BaselineListing>('GET', path(model, 'baselines'));
        ctx.output.result(listing, () => listingText(listing));
      });
    });

  drift
    .command('use-baseline <model> <id>')
    .description('make an earlier baseline the active one (audited)')
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .option('--json', 'print JSON')
    .action(async (model: string, id: string, o: { reason: string }, cmd: Command) => {
      const reason = reasonOf(o, 'change the baseline');
      await inContext(context, cmd, (ctx) =>
        decide(ctx, model, 'baselines/use', { id, reason }, (out) =>
          [
            `${model}: baseline ${id} is active${out.audit.previous ? ` (was ${out.audit.previous})` : ''}; by ${out.audit.actor}`,
            'batches checked from now on are compared with it',
          ].join('\n'),
        ),
      );
    });

  drift
    .command('discard-baseline <model> <id>')
    .description('discard a bad baseline that is not the active one (kept, marked; audited)')
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .option('--json', 'print JSON')
    .action(async (model: string, id: string, o: { reason: string }, cmd: Command) => {
      const reason = reasonOf(o, 'discard it');
      await inContext(context, cmd, (ctx) =>
        decide(
          ctx,
          model,
          'baselines/discard',
          { id, reason },
          (out) => `${model}: baseline ${id} discarded by ${out.audit.actor}`,
        ),
      );
    });

  drift
    .command('discard-batch <model> <batchKey>')
    .description(
      'set a bad batch aside: kept and marked, left out of the trend, worst-batch views and retraining (audited)',
    )
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .option('--json', 'print JSON')
    .action(async (model: string, batchKey: string, o: { reason: string }, cmd: Command) => {
      const reason = reasonOf(o, 'discard it');
      await inContext(context, cmd, (ctx) =>
        decide(ctx, model, 'batches/discard', { batchKey, reason }, (out) => {
          const released = (out as DecisionResult & { cooldownReleased?: boolean }).cooldownReleased;
          return [
            `${model}: batch ${batchKey} discarded by ${out.audit.actor}; left out of drift report and the worst-batch views`,
            ...(released ? ['the retrain cool-down it had taken is given back'] : []),
          ].join('\n');
        }),
      );
    });
}
