#!/usr/bin/env node
import '../local/polyfills.js';
import { Command, CommanderError } from 'commander';
import { isMlcycleError } from '../lambdas/domain/errors.js';
import { neutralizeLines } from '../lambdas/domain/text.js';
import { registerArchiveCommands } from './cli/archive.js';
import { createContext } from './cli/context.js';
import { registerDatasetCommands } from './cli/datasets.js';
import { registerDemoCommand } from './cli/demo.js';
import { registerDoctorCommand } from './cli/doctor.js';
import { registerDownCommand } from './cli/down.js';
import { registerDriftCommands } from './cli/drift.js';
import { registerModelsCommands } from './cli/models.js';
import { registerPipelineCommands } from './cli/pipeline.js';
import { registerPromotionCommands } from './cli/promotion.js';
import { registerRolloutCommands } from './cli/rollout.js';
import { registerRunsCommands } from './cli/runs.js';
import { registerStatusCommand } from './cli/status.js';
import { registerSweepCommands } from './cli/sweep.js';
import { registerTrainCommands } from './cli/train.js';
import { registerUpCommand } from './cli/up.js';
import { registerWhoamiCommand } from './cli/whoami.js';

const program = new Command('mlcycle')
  .description('ML lifecycle on AWS — or whole on this laptop (the default)')
  .option('-c, --config <file>', 'config file', process.env.MLCYCLE_CONFIG ?? 'mlcycle.config.yaml')
  .option('--aws', 'act on the deployed AWS stack instead of the local one')
  .option('--profile <name>', 'AWS profile (implies --aws)')
  .option('--region <region>', 'AWS region')
  .option('--dir <dir>', 'local state folder', process.env.MLCYCLE_DIR ?? '.mlcycle')
  .option(
    '--as <identity>',
    'who is acting, locally only (a convenience: nothing authenticates it); default $MLCYCLE_USER or the OS user. Refused with --aws',
  )
  .showHelpAfterError()
  // Commander quotes what was typed in its errors; no control character reaches the terminal.
  .configureOutput({ outputError: (text, write) => write(neutralizeLines(text)) })
  .exitOverride();

registerUpCommand(program);
registerDownCommand(program);
registerDemoCommand(program);
registerDatasetCommands(program, createContext);
registerPipelineCommands(program, createContext);
registerTrainCommands(program, createContext);
registerModelsCommands(program, createContext);
registerRunsCommands(program, createContext);
registerSweepCommands(program, createContext);
registerPromotionCommands(program, createContext);
registerRolloutCommands(program, createContext);
registerDriftCommands(program, createContext);
registerArchiveCommands(program, createContext);
registerStatusCommand(program, createContext);
registerDoctorCommand(program);
registerWhoamiCommand(program, createContext);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    // One clear line, neutralised (messages quote names and values from users and data); the
    // stack only when asked for.
    const e = err as Error;
    console.error(neutralizeLines(`mlcycle: ${isMlcycleError(e) ? '' : `${e.name}: `}${e.message}`));
    if (process.env.MLCYCLE_DEBUG) console.error(e.stack);
    process.exitCode = isMlcycleError(e) && e.status < 500 ? 2 : 1;
  }
}
