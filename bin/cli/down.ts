import type { Command } from 'commander';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { stopLocalStack } from '../../local/stop-stack.js';
import { globalOptions } from './context.js';
import { createOutput } from './output.js';

/**
 * `mlcycle down`: stops the stack `mlcycle up` runs for --dir, and cleans up after one that was
 * killed (its DynamoDB Local JVM, endpoints.json). Nothing running is not an error: `down` is
 * idempotent, so scripts can call it unconditionally (exit 0, and it says so).
 */
export function registerDownCommand(program: Command): void {
  program
    .command('down')
    .description('stop the local stack that `up` runs for --dir (and anything a killed run left behind)')
    .option('--timeout <seconds>', 'how long to wait for a clean stop before SIGKILL', '30')
    .option('--json', 'print JSON')
    .action(async (opts: { timeout: string; json?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const seconds = Number(opts.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        throw new ValidationError(`--timeout "${opts.timeout}" is not a positive number of seconds`);
      }
      const result = await stopLocalStack(g.dir, { timeoutMs: seconds * 1000 });
      createOutput(Boolean(opts.json)).result(result, () => {
        const lines: string[] = [];
        if (result.stopped) {
          lines.push(
            result.stopped.forced
              ? `the local stack in ${g.dir} (pid ${result.stopped.pid}) did not stop within ${seconds} s; killed it`
              : `stopped the local stack in ${g.dir} (pid ${result.stopped.pid})`,
          );
        }
        if (result.staleEndpoints) {
          lines.push(
            `removed a stale ${g.dir}/endpoints.json (pid ${result.staleEndpoints.pid} is not a running mlcycle)`,
          );
        }
        if (result.orphanJvm !== undefined) {
          lines.push(`stopped DynamoDB Local (pid ${result.orphanJvm}) left running by a killed run`);
        }
        if (!result.stopped) {
          lines.unshift(`no local stack runs from ${g.dir}${lines.length ? '' : '; nothing to stop'}`);
        }
        return lines.join('\n');
      });
    });
}
