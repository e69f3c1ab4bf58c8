import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import type { StartedExecution } from '../../lambdas/services/pipeline/start.js';
import { inProcessStack } from './context.js';
import { history, stateTimings, watchExecution } from './execution-watch.js';
import type { CliContext, RegisterCommands } from './types.js';

const fmtMs = (ms?: number) =>
  ms === undefined ? '…' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;

/**
 * The end of a followed execution: its status, and for a failure the error and the cause (the
 * one line RecordFailure wrote, e.g. "no dataset under s3://…"), with a non-zero exit.
 */
export function reportEnd(
  ctx: CliContext,
  executionArn: string,
  final: { status?: string; error?: string; cause?: string },
): void {
  ctx.output.result(
    { executionArn, status: final.status, error: final.error ?? null, cause: final.cause ?? null },
    () => `${final.status}${final.error ? `: ${final.error}${final.cause ? ` — ${final.cause}` : ''}` : ''}`,
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

function resolveExecutionArn(ctx: CliContext, nameOrArn: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  return `${ctx.stateMachineArn.replace(':stateMachine:', ':execution:')}:${nameOrArn}`;
}

export const registerPipelineCommands: RegisterCommands = (program, context) => {
  const pipeline = program.command('pipeline').description('start and inspect lifecycle executions');

  pipeline
    .command('start')
    .description('start the lifecycle (train → evaluate → register → gate → approve → deploy) for a model')
    .requiredOption('-m, --model <name>', 'model from the config')
    .option('-s, --stage <stage>', "target environment (default: the model's schedule stage)")
    .option('--dataset <s3uri>', 'dataset to train on (default: newest under datasets/<model>/)')
    .option('--bump <part>', 'semantic version part to bump: major, minor or patch', 'minor')
    .option('--reason <text>', 'why (shown to approvers)', '')
    .option('--wait', 'follow the execution until it ends')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      const ctx = await context(cmd);
      try {
        // The server picks the stage's default, checks the request against the deployed policy
        // and records who asks: this command only says what is wanted.
        const started = await ctx.control.request<StartedExecution>('POST', '/runs', {
          model: opts.model,
          ...(opts.stage ? { stage: opts.stage } : {}),
          ...(opts.dataset ? { dataset: opts.dataset } : {}),
          bump: opts.bump,
          reason: opts.reason,
        });
        const { executionArn } = started;
        ctx.output.info(`started ${executionArn} as ${started.requestedBy}`);
        // Without `mlcycle up` the execution lives in this process: follow it to the end.
        if (opts.wait || inProcessStack()) {
          if (inProcessStack()) {
            ctx.output.info(
              `approval pages are served at ${inProcessStack()?.endpoints.api} while this runs`,
            );
          }
          const final = await followExecution(ctx, executionArn);
          reportEnd(ctx, executionArn, final);
        } else {
          ctx.output.result(
            { executionArn, status: 'RUNNING' },
            () => `follow it with: mlcycle pipeline status ${executionArn}`,
          );
        }
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
    .description('recent executions')
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
        const rows = (out.executions ?? [])
          .filter((e) => !opts.model || e.name?.startsWith(`${opts.model}-`))
          .map((e) => ({
            name: e.name,
            status: e.status,
            started: e.startDate?.toISOString(),
            stopped: e.stopDate?.toISOString() ?? '',
          }));
        ctx.output.table(rows);
      } finally {
        await ctx.close();
      }
    });
};
