import type { Command } from 'commander';
import type { Caller } from '../../lambdas/contracts/routes.js';
import { inContext, type RegisterCommands } from './types.js';

/**
 * `mlcycle whoami`: who the stack takes you for — with --aws, your AWS principal and the person
 * the deployed config's `identities` maps it to (or why not); locally, the --as name.
 */
export const registerWhoamiCommand: RegisterCommands = (program, context) => {
  program
    .command('whoami')
    .description('who the stack takes you for (with --aws: your principal and the person it maps to)')
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        const caller = await ctx.control.request<Caller>('GET', '/whoami');
        ctx.output.result(caller, () =>
          caller.principal
            ? `${caller.person} (AWS principal ${caller.principal})`
            : `${caller.person} (local: --as, MLCYCLE_USER or the OS user; nothing authenticates it)`,
        );
      });
    });
};
