import type { Command } from 'commander';
import { retrainSchedules } from '../../lambdas/contracts/retrain-schedules.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { neutralizeInline } from '../../lambdas/domain/text.js';
import { PortInUseError } from '../../local/listen.js';
import { runningStack, startLocalStack } from '../../local/runtime.js';
import { contractScheduleJobs, LocalScheduler, type ScheduledJob } from '../../local/scheduler/scheduler.js';
import { loadRunnableConfig } from '../../local/trainers/config-trainers.js';
import { globalOptions } from './context.js';

/**
 * `mlcycle up`: the whole stack in the foreground — emulators, the state machine, the approval
 * and manifest HTTP API, S3 event notifications and the schedules — until Ctrl-C.
 */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description(
      'run the local stack in the foreground (emulators, state machine, approval server, schedules)',
    )
    .option('--port <port>', 'port of the approval/manifest HTTP API', '8787')
    .action(async (opts: { port: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const config = loadRunnableConfig(g.config);
      const other = runningStack(g.dir);
      if (other) {
        throw new ValidationError(
          `a local stack already runs from ${g.dir} (pid ${other.pid}); stop it first (npx mlcycle down) or use --dir for another`,
        );
      }
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new ValidationError(`--port "${opts.port}" is not a TCP port number`);
      }
      // Log lines quote S3 keys, execution names and results: shown, never acted on.
      const log = (line: string) =>
        console.log(`${new Date().toISOString().slice(11, 19)} ${neutralizeInline(line)}`);
      const stack = await startLocalStack({
        config,
        dir: g.dir,
        ports: { api: port },
        log,
        onExecutionEvent: (execution, event) => {
          const details = event.stateEnteredEventDetails as { name?: string } | undefined;
          if (event.type.endsWith('StateEntered') && details?.name) log(`${execution.name}: ${details.name}`);
          if (event.type.startsWith('Execution') && event.type !== 'ExecutionStarted') {
            log(`${execution.name}: ${event.type}`);
          }
        },
      }).catch((err: unknown) => {
        // The stack has stopped what it started; say which flag picks another port.
        if (err instanceof PortInUseError && err.port === port) {
          throw new PortInUseError(port, 'pass --port <free port>');
        }
        throw err;
      });
      const jobs: ScheduledJob[] = [
        ...retrainSchedules(config).map((r) => ({
          name: `retrain-${r.model}`,
          expression: r.expression,
          // The same function and event as the stack's EventBridge rule for this model.
          run: async () => {
            const out = (await stack.lambdas.invoke('scheduledRetrain', r.event)) as { executionArn: string };
            log(`scheduled retrain started: ${out.executionArn}`);
          },
        })),
        // Cleanup, approval reminders and the reconciler, on the stack's rules' cadence.
        ...contractScheduleJobs(config.project, (name, event) => stack.lambdas.invoke(name, event), log),
      ];
      const scheduler = new LocalScheduler(jobs, log);
      const next = scheduler.start();
      const e = stack.endpoints;
      const reminding = Object.entries(config.environments).flatMap(([stage, env]) =>
        env.reminderHoursBeforeExpiry ? [`${stage} ${env.reminderHoursBeforeExpiry} h before expiry`] : [],
      );
      console.log(
        [
          '',
          `mlcycle local stack is up (state in ${stack.dir})`,
          `  approval pages + manifests  ${e.api}   (e.g. ${e.api}models/<model>/<stage>)`,
          `  model downloads             ${e.api}downloads/<model>/<sha256>/<file>   (a manifest's download.url)`,
          `  emails (.eml outbox)        ${e.outboxDir}`,
          `  DynamoDB Local              ${e.dynamodb}   table ${e.tableName}`,
          `  S3 (s3rver)                 ${e.s3}   bucket ${e.bucket}`,
          `  Step Functions API          ${e.sfn}`,
          `  state machine               ${e.stateMachineArn}`,
          ...next.map(
            (n) => `  schedule ${n.name.padEnd(18)} ${n.expression.padEnd(22)} next ${n.next.toISOString()}`,
          ),
          `  approval reminders          ${
            reminding.length
              ? `emailed to approvers who have not decided: ${reminding.join(', ')}`
              : 'none (no environment sets reminderHoursBeforeExpiry)'
          }`,
          '',
          'In another terminal:',
          '  npx mlcycle datasets generate churn               # or: datasets upload churn <file.csv>',
          '  npx mlcycle pipeline start --model churn --wait',
          '  npx mlcycle pipeline list',
          '  npx mlcycle models list',
          'Ctrl-C stops it; state is kept for the next start.',
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      log('stopping…');
      scheduler.stop();
      await stack.stop();
    });
}
