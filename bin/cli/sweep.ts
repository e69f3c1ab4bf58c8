import { readFileSync } from 'node:fs';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { StartStore } from '../../lambdas/adapters/pipeline/start-store.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { type SweepSpec, sweepSpecSchema } from '../../lambdas/contracts/sweep.js';
import { describeZodError } from '../../lambdas/contracts/zod-errors.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { planSweep } from '../../lambdas/domain/sweeps/plan.js';
import { neutralizeInline } from '../../lambdas/domain/text.js';
import type { StartedExecution } from '../../lambdas/services/pipeline/start.js';
import type { StopSweepResult } from '../../lambdas/services/sweeps/stop-sweep.js';
import { type SweepStatus, sweepStatus, writeSweepPage } from '../../lambdas/services/sweeps/sweep-status.js';
import { loadRunnableConfig } from '../../local/trainers/config-trainers.js';
import { globalOptions, inProcessStack } from './context.js';
import { watchExecution } from './execution-watch.js';
import { renderTable } from './output.js';
import { reasonOf, reportEnd } from './pipeline.js';
import { announcePage } from './run-pages.js';
import { type CliContext, configuredModel, inContext, type RegisterCommands } from './types.js';

/** A sweep spec file read and validated: one line per problem, naming the key and the value. */
export function readSweepSpec(file: string): SweepSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError(
      `sweep spec ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); see examples/sweep.yaml for one`,
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ValidationError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = sweepSpecSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ValidationError(describeZodError(result.error, file));
  return result.data;
}

/**
 * The spec — a sweep the config names (`models.<model>.sweeps.<name>`), else a file — checked
 * here against the model's trainer.yaml before anything is contacted, so a bad value fails fast;
 * the start service checks it again against the deployed schema.
 */
function specBeforeStart(cmd: Command, model: string, specArg: string): SweepSpec {
  const config = loadRunnableConfig(globalOptions(cmd).config);
  const m = config.models[model];
  if (!m) {
    throw new ValidationError(
      `unknown model "${model}"; the config defines: ${Object.keys(config.models).join(', ')}`,
    );
  }
  const spec = m.sweeps?.[specArg] ?? readSweepSpec(specArg);
  planSweep(
    { model, task: m.task, trainer: config.trainers?.[model], base: m.training.hyperparameters },
    spec,
    'check',
  );
  return spec;
}

const fmt = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v);

/** `sweep status`'s text: the sweep, its trials as a table, the best trial. */
export function formatSweepStatus(s: SweepStatus): string {
  const rows = s.trials.map((t) => ({
    trial: `${t.trial}${t.best ? ' *' : ''}`,
    run: t.runId,
    status: t.status,
    [s.metric]: t.value === null ? '' : String(fmt(t.value)),
    parameters: Object.entries(t.parameters)
      .map(([k, v]) => `${k}=${fmt(v)}`)
      .join(' '),
    why: t.reason,
  }));
  // The cells (a trainer's failure cause, a parameter's value) are shown neutralised by renderTable.
  return [
    neutralizeInline(
      `sweep ${s.id}: ${s.model} → ${s.stage}, ${s.trials.length} of ${s.planned} trial(s), ${s.concurrency} at once, ` +
        `best by ${s.metric} (${s.direction}), early stopping ${s.rule}`,
    ),
    '',
    renderTable(rows),
    '',
    neutralizeInline(
      s.best
        ? `best: trial ${s.best.trial} (run ${s.best.runId}, ${s.metric} ${fmt(s.best.value)})${s.best.version ? `, registered as ${s.best.version}` : ''}`
        : 'best: none yet',
    ),
  ].join('\n');
}

async function startSweep(
  ctx: CliContext,
  request: { model: string; stage?: string; dataset?: string; reason: string; sweep: SweepSpec },
  wait: boolean,
) {
  const started = await ctx.control.request<StartedExecution>('POST', '/runs', request);
  const { executionArn, executionName } = started;
  ctx.output.info(
    `started sweep ${executionName} as ${started.requestedBy}: ${started.sweep?.trials ?? '?'} trial(s), ${started.sweep?.concurrency ?? '?'} at once`,
  );
  if (started.sweep?.message) ctx.output.info(`note: ${started.sweep.message}`);
  if (wait || inProcessStack()) {
    // The trials' own states interleave in the history (several run at once): the Map is shown
    // as one line, and the trials as the status table at the end.
    const final = await watchExecution(ctx.sfn, executionArn, {
      onState: (t, phase) => {
        if (t.type === 'Choice' || t.type === 'Pass' || t.name.startsWith('Trial')) return;
        if (phase === 'entered' && t.name === 'Approve')
          ctx.output.info('  … Approve: waiting for approvals');
        if (phase === 'exited')
          ctx.output.info(`  ✓ ${t.name.padEnd(14)} ${((t.durationMs ?? 0) / 1000).toFixed(1)} s`);
      },
    });
    for (const line of formatSweepStatus(await statusOf(ctx, executionName)).split('\n'))
      ctx.output.info(line);
    reportEnd(ctx, executionArn, final);
  } else {
    ctx.output.result(
      { executionArn, sweep: executionName, status: 'RUNNING', trials: started.sweep?.trials ?? null },
      () => `follow it with: mlcycle sweep status ${executionName}`,
    );
  }
}

function statusOf(ctx: CliContext, id: string): Promise<SweepStatus> {
  return sweepStatus(
    { registry: new Registry(ctx.doc, ctx.tableName), starts: new StartStore(ctx.doc, ctx.tableName) },
    id,
  );
}

/** `mlcycle sweep start|status|list`: hyperparameter sweeps (docs/sweeps.md). */
export const registerSweepCommands: RegisterCommands = (program, context) => {
  const sweep = program.command('sweep').description('hyperparameter sweeps: trials in a Step Functions Map');

  sweep
    .command('start <model> <spec>')
    .description(
      'start a sweep of a model from a spec file (YAML: parameters, strategy, trials, concurrency, metric…)',
    )
    .option(
      '-s, --stage <stage>',
      "target environment of the best trial (default: the model's schedule stage)",
    )
    .option('--dataset <s3uri>', 'dataset every trial trains on (default: newest under datasets/<model>/)')
    .option('--note <text>', 'why (kept on every trial run, shown to approvers)')
    .option('--wait', 'follow the sweep until it ends')
    .option('--json', 'print JSON')
    .action(async (model: string, file: string, opts, cmd: Command) => {
      // Checked before any stack is contacted or started: a bad spec starts nothing.
      const spec = specBeforeStart(cmd, model, file);
      await inContext(context, cmd, (ctx) =>
        startSweep(
          ctx,
          {
            model,
            ...(opts.stage ? { stage: opts.stage } : {}),
            ...(opts.dataset ? { dataset: opts.dataset } : {}),
            reason: reasonOf('', opts.note),
            sweep: spec,
          },
          Boolean(opts.wait),
        ),
      );
    });

  sweep
    .command('status <sweep>')
    .description('the trials of a sweep: parameters, measured metric, status (stopped ones with why), best')
    .option(
      '--page',
      'also write its page (trials over time, parameters against the metric) and print its URL',
    )
    .option('--open', 'as --page, and open the URL in a browser when run from a terminal')
    .option('--json', 'print JSON')
    .action(async (id: string, opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        const s = await statusOf(ctx, id);
        const page =
          opts.page || opts.open
            ? await announcePage(
                ctx,
                await writeSweepPage({ objects: new S3Objects(ctx.s3), bucket: ctx.bucket }, s),
                Boolean(opts.open),
              )
            : undefined;
        ctx.output.result(page ? { ...s, page } : s, () => formatSweepStatus(s));
      });
    });

  sweep
    .command('stop <sweep>')
    .description(
      'stop a sweep: its trials still going are cancelled (recorded with who and why), no more start',
    )
    .requiredOption('--reason <text>', 'why, kept on each cancelled trial')
    .option('--json', 'print JSON')
    .action(async (id: string, opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        // Who may stop it is the control API's to decide (the caller it authenticates).
        const out = await ctx.control.request<StopSweepResult>(
          'POST',
          `/sweeps/${encodeURIComponent(id)}/stop`,
          { reason: opts.reason },
        );
        ctx.output.result(out, () =>
          [
            `sweep ${out.sweepId} of ${out.model} stopped by ${out.stopped.by}: ${neutralizeInline(out.stopped.reason)}`,
            out.trialsCancelled.length
              ? `trials cancelled: ${out.trialsCancelled.map((t) => `${t.trial} (was ${t.was})`).join(', ')}; their jobs are being terminated`
              : 'no trial was going; trials not yet started will not start',
          ].join('\n'),
        );
      });
    });

  sweep
    .command('list')
    .description('recent sweeps and how they ended')
    .option('-m, --model <name>', 'only this model')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        if (opts.model) configuredModel(ctx, opts.model);
        const out = await ctx.sfn.send(
          new ListExecutionsCommand({ stateMachineArn: ctx.stateMachineArn, maxResults: 100 }),
        );
        const sweeps = (out.executions ?? []).filter(
          (e) => /-sweep-/.test(e.name ?? '') && (!opts.model || e.name?.startsWith(`${opts.model}-`)),
        );
        const rows = [];
        for (const e of sweeps) {
          const s = await statusOf(ctx, e.name ?? '').catch(() => undefined);
          if (!s) continue;
          rows.push({
            sweep: e.name,
            model: s.model,
            status: e.status,
            trials: `${s.trials.length}/${s.planned}`,
            stopped: s.trials.filter((t) => t.status === 'stopped').length,
            failed: s.trials.filter((t) => t.status === 'failed').length,
            cancelled: s.trials.filter((t) => t.status === 'cancelled').length,
            best: s.best ? `trial ${s.best.trial} ${s.metric}=${fmt(s.best.value)}` : '',
            started: e.startDate?.toISOString(),
          });
        }
        ctx.output.table(rows);
      });
    });
};
