import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { executionArnOf } from '../../lambdas/contracts/state-machine.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { checkOverrides, parseSetArguments } from '../../lambdas/domain/ml/trainer-config.js';
import { skippedReason } from '../../lambdas/domain/pipeline/retrain-skip.js';
import type { RunRecord } from '../../lambdas/domain/registry/types.js';
import type { StartedExecution } from '../../lambdas/services/pipeline/start.js';
import { loadRunnableConfig } from '../../local/trainers/config-trainers.js';
import { globalOptions, inProcessStack } from './context.js';
import { history, stateTimings, watchExecution } from './execution-watch.js';
import type { CliContext, RegisterCommands } from './types.js';

const fmtMs = (ms?: number) =>
  ms === undefined ? '…' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;

/**
 * The end of a followed execution: its status, and for a failure the error and the cause (the
 * one line RecordFailure wrote, e.g. "no dataset under s3://…"), with a non-zero exit. A run
 * skipped for want of anything new succeeded: it says so, and why.
 */
export function reportEnd(
  ctx: CliContext,
  executionArn: string,
  final: { status?: string; error?: string; cause?: string; output?: string },
): void {
  const skipped = final.status === 'SUCCEEDED' ? skippedReason(final.output) : null;
  ctx.output.result(
    {
      executionArn,
      status: final.status,
      error: final.error ?? null,
      cause: final.cause ?? null,
      ...(skipped ? { skipped } : {}),
    },
    () =>
      skipped
        ? `SKIPPED: ${skipped}`
        : `${final.status}${final.error ? `: ${final.error}${final.cause ? ` — ${final.cause}` : ''}` : ''}`,
  );
  if (final.status !== 'SUCCEEDED') process.exitCode = 1;
}

/** Prints state-by-state progress and returns the final description. */
export async function followExecution(ctx: CliContext, executionArn: string) {
  const final = await watchExecution(ctx.sfn, executionArn, {
    onState: (t, phase) => {
      if (t.type === 'Choice' || t.type === 'Pass') return;
      if (phase === 'entered' && t.name === 'Approve') {
        ctx.output.info(`  … Approve: waiting for approvals (links are in the approvers' email)`);
      }
      if (phase === 'exited') ctx.output.info(`  ✓ ${t.name.padEnd(14)} ${fmtMs(t.durationMs)}`);
      if (phase === 'entered' && t.type === 'Fail') ctx.output.info(`  ✗ ${t.name}`);
    },
  });
  return final;
}

function modelOf(positional: string | undefined, option: string | undefined): string {
  if (positional && option && positional !== option) {
    throw new ValidationError(`the model is given twice (${positional} and --model ${option}); give it once`);
  }
  const model = positional ?? option;
  if (!model)
    throw new ValidationError('which model? mlcycle pipeline start <model> (a model of the config)');
  return model;
}

/** --reason and --note are one field, the run's note: given twice, they must agree. */
export function reasonOf(reason: string, note: string | undefined): string {
  if (note !== undefined && reason && note !== reason) {
    throw new ValidationError('--reason and --note are the same field (the run’s note): give one of them');
  }
  return note ?? reason;
}

function resolveExecutionArn(ctx: CliContext, nameOrArn: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  return executionArnOf(ctx.stateMachineArn, nameOrArn);
}

/** What `pipeline start` and `train submit` ask the start route (POST /runs) for. */
export interface RunRequest {
  readonly model: string;
  readonly stage?: string | undefined;
  readonly dataset?: string | undefined;
  readonly bump?: string | undefined;
  readonly reason: string;
  readonly overrides: Readonly<Record<string, string | number | boolean>>;
  /** Train even on the dataset the serving version was trained on (PrepareRun skips it otherwise). */
  readonly force?: boolean | undefined;
}

/**
 * The overrides checked here against the model's trainer.yaml before anything is contacted or
 * started, so a typo fails fast with the key, the value and the closest name. A convenience
 * only: the start service checks them again against the deployed schema, whatever a client did.
 */
export function checkOverridesBeforeStart(
  cmd: Command,
  model: string,
  overrides: Readonly<Record<string, string | number | boolean>>,
  label?: (key: string, shownValue: string) => string,
): Record<string, string | number | boolean> {
  if (Object.keys(overrides).length === 0) return {};
  const config = loadRunnableConfig(globalOptions(cmd).config);
  const m = config.models[model];
  if (!m) {
    throw new ValidationError(
      `unknown model "${model}"; the config defines: ${Object.keys(config.models).join(', ')}`,
    );
  }
  return checkOverrides(model, config.trainers?.[model], m.training.hyperparameters, overrides, label);
}

/**
 * Starts a training run through the start route (the same start service and Admit as every
 * run), prints where it is, and follows it when asked (or when the stack lives in this process).
 */
export async function startRun(ctx: CliContext, run: RunRequest, wait: boolean): Promise<void> {
  // The server picks the stage's default, checks the request against the deployed policy and
  // trainer schema, and records who asks: this command only says what is wanted.
  const started = await ctx.control.request<StartedExecution>('POST', '/runs', {
    model: run.model,
    ...(run.stage ? { stage: run.stage } : {}),
    ...(run.dataset ? { dataset: run.dataset } : {}),
    ...(run.bump ? { bump: run.bump } : {}),
    reason: run.reason,
    ...(Object.keys(run.overrides).length ? { overrides: run.overrides } : {}),
    ...(run.force ? { force: true } : {}),
  });
  const { executionArn } = started;
  const set = Object.entries(started.request.overrides ?? {});
  ctx.output.info(
    `started ${executionArn} as ${started.requestedBy}` +
      (set.length ? ` with ${set.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}` : ''),
  );
  // Without `mlcycle up` the execution lives in this process: follow it to the end.
  if (wait || inProcessStack()) {
    if (inProcessStack()) {
      ctx.output.info(`approval pages are served at ${inProcessStack()?.endpoints.api} while this runs`);
    }
    const final = await followExecution(ctx, executionArn);
    reportEnd(ctx, executionArn, final);
  } else {
    ctx.output.result(
      { executionArn, status: 'RUNNING', overrides: started.request.overrides ?? {} },
      () => `follow it with: mlcycle pipeline status ${executionArn}`,
    );
  }
}

/** The registry's runs (of one model, or of every model of the config) by their execution. */
async function runsByExecution(ctx: CliContext, model: string | undefined): Promise<Map<string, RunRecord>> {
  const registry = new Registry(ctx.doc, ctx.tableName);
  const models = model ? [model] : Object.keys(ctx.config.models);
  const runs = (await Promise.all(models.map((m) => registry.runs.listRuns(m, 100)))).flat();
  return new Map(runs.flatMap((r) => (r.executionArn ? [[r.executionArn, r] as const] : [])));
}

export const registerPipelineCommands: RegisterCommands = (program, context) => {
  const pipeline = program.command('pipeline').description('start and inspect lifecycle executions');

  pipeline
    .command('start [model]')
    .description('start the lifecycle (train → evaluate → register → gate → approve → deploy) for a model')
    .option('-m, --model <name>', 'model from the config (or give it as the first argument)')
    .option('-s, --stage <stage>', "target environment (default: the model's schedule stage)")
    .option('--dataset <s3uri>', 'dataset to train on (default: newest under datasets/<model>/)')
    .option('--bump <part>', 'semantic version part to bump: major, minor or patch', 'minor')
    .option('--reason <text>', 'why (shown to approvers, kept on the run: `runs show`)', '')
    .option('--note <text>', 'the same as --reason, for an experiment note')
    .option(
      '--set <key=value>',
      "override a hyperparameter for this run (repeatable), checked against the trainer's trainer.yaml",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--force',
      'train even when the dataset and hyperparameters are those of the version serving the stage (skipped otherwise)',
    )
    .option('--wait', 'follow the execution until it ends')
    .option('--json', 'print JSON')
    .action(async (modelArg: string | undefined, opts, cmd: Command) => {
      const model = modelOf(modelArg, opts.model);
      // Checked before any stack is contacted or started: a typo starts nothing.
      const overrides = checkOverridesBeforeStart(cmd, model, parseSetArguments(opts.set));
      const ctx = await context(cmd);
      try {
        await startRun(
          ctx,
          {
            model,
            stage: opts.stage,
            dataset: opts.dataset,
            bump: opts.bump,
            reason: reasonOf(opts.reason, opts.note),
            overrides,
            force: Boolean(opts.force),
          },
          Boolean(opts.wait),
        );
      } finally {
        await ctx.close();
      }
    });

  pipeline
    .command('status <execution>')
    .description('state-by-state progress of an execution (name or ARN)')
    .option('--json', 'print JSON')
    .action(async (execution: string, _opts, cmd: Command) => {
      const ctx = await context(cmd);
      try {
        const arn = resolveExecutionArn(ctx, execution);
        const { DescribeExecutionCommand } = await import('@aws-sdk/client-sfn');
        const d = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
        const states = stateTimings(await history(ctx.sfn, arn)).map((t) => ({
          state: t.name,
          type: t.type,
          entered: t.enteredAt.toISOString(),
          duration: fmtMs(t.durationMs),
        }));
        ctx.output.result(
          { executionArn: arn, status: d.status, error: d.error ?? null, cause: d.cause ?? null, states },
          () =>
            [
              `${arn}`,
              `status: ${d.status}${d.error ? ` (${d.error}: ${d.cause ?? ''})` : ''}`,
              '',
              ...states.map((s) => `  ${s.state.padEnd(18)} ${s.type.padEnd(8)} ${s.duration}`),
            ].join('\n'),
        );
      } finally {
        await ctx.close();
      }
    });

  pipeline
    .command('list')
    .description('recent executions, with their run (skipped ones say why)')
    .option('-m, --model <name>', 'only this model')
    .option('--status <status>', 'RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      const ctx = await context(cmd);
      try {
        const out = await ctx.sfn.send(
          new ListExecutionsCommand({
            stateMachineArn: ctx.stateMachineArn,
            ...(opts.status ? { statusFilter: opts.status } : {}),
            maxResults: 100,
          }),
        );
        const runs = await runsByExecution(ctx, opts.model);
        const rows = (out.executions ?? [])
          .filter((e) => !opts.model || e.name?.startsWith(`${opts.model}-`))
          .map((e) => {
            const run = runs.get(e.executionArn ?? '');
            return {
              name: e.name,
              status: e.status,
              run: run?.status ?? '',
              started: e.startDate?.toISOString(),
              stopped: e.stopDate?.toISOString() ?? '',
              why: run?.skipped?.reason ?? '',
            };
          });
        ctx.output.table(rows);
      } finally {
        await ctx.close();
      }
    });
};
