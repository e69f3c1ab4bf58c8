import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { type TrainingJob, trainingJobSchema } from '../../lambdas/contracts/training-job.js';
import { describeZodError } from '../../lambdas/contracts/zod-errors.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { checkOverridesBeforeStart, startRun } from './pipeline.js';
import type { RegisterCommands } from './types.js';

/** A training-job manifest read and validated: one line per problem, naming the key and the value. */
export function readTrainingJob(file: string): TrainingJob {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError(
      `job file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); ` +
        'see examples/train-job.yaml for one',
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ValidationError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = trainingJobSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ValidationError(describeZodError(result.error, file));
  return result.data;
}

/**
 * `mlcycle train submit job.yaml`: a one-off training run written down as a file. It goes
 * through the same start route, start service and Admit as `pipeline start` (checked against
 * the deployed policy and trainer schema, recorded with who asked): a job file bypasses nothing.
 */
export const registerTrainCommands: RegisterCommands = (program, context) => {
  const train = program.command('train').description('one-off training jobs (outside the schedule)');
  train
    .command('submit <file>')
    .description(
      'start a training run from a job manifest (YAML: model, stage, dataset, reason, hyperparameters, wait)',
    )
    .option('--wait', 'follow the run until it ends (as wait: true in the file)')
    .option('--force', 'train even on the dataset and hyperparameters of the version serving the stage')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { wait?: boolean; force?: boolean }, cmd: Command) => {
      const job = readTrainingJob(file);
      // Checked before any stack is contacted or started: a typo starts nothing.
      const overrides = checkOverridesBeforeStart(
        cmd,
        job.model,
        job.hyperparameters,
        (key, value) => `${file}: hyperparameters.${key}: got ${value}`,
      );
      const ctx = await context(cmd);
      try {
        await startRun(
          ctx,
          {
            model: job.model,
            stage: job.stage,
            dataset: job.dataset,
            bump: job.bump,
            reason: job.reason,
            overrides,
            force: Boolean(opts.force),
          },
          job.wait || Boolean(opts.wait),
        );
      } finally {
        await ctx.close();
      }
    });
};
