import { resolve } from 'node:path';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../lambdas/adapters/config-file.js';
import type { MlcycleConfig } from '../../lambdas/contracts/config-schema.js';
import type { DeployedTrainer } from '../../lambdas/contracts/trainer.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { modelTrainerProblems } from '../../lambdas/domain/ml/trainer-config.js';
import { planSweep } from '../../lambdas/domain/sweeps/plan.js';
import { loadTrainer } from './manifest.js';

/**
 * The config as mlcycle runs it: mlcycle.config.yaml validated, then each model checked against
 * its trainer's trainer.yaml (the `training.image` folder, relative to `root`): the task must be
 * one the trainer declares, and the hyperparameters must match its schema, so a typo such as
 * `learningRat` is refused at load (CLI, `up`, synth) instead of failing inside a container.
 * The trainers' schemas are added under `trainers`, so the deployed config (the Lambda layer,
 * or deployed-config.json locally) lets the start service check `--set` overrides itself.
 */
export function attachTrainers(
  config: MlcycleConfig,
  source = DEFAULT_CONFIG_PATH,
  root = process.cwd(),
): MlcycleConfig {
  if (config.trainers !== undefined) {
    throw new ValidationError(
      `${source}: trainers: is written by mlcycle from each model's trainer.yaml (training.image); remove it from the file`,
    );
  }
  const problems: string[] = [];
  const trainers: Record<string, DeployedTrainer> = {};
  for (const [modelName, model] of Object.entries(config.models)) {
    const folder = model.training.image;
    let trainer: DeployedTrainer;
    try {
      const loaded = loadTrainer(resolve(root, folder));
      trainer = {
        folder,
        name: loaded.manifest.name,
        tasks: loaded.manifest.tasks,
        hyperparameters: loaded.manifest.hyperparameters,
      };
    } catch (err) {
      problems.push(
        `${source}: models.${modelName}.training.image: got ${JSON.stringify(folder)}: ${(err as Error).message}`,
      );
      continue;
    }
    trainers[modelName] = trainer;
    for (const problem of modelTrainerProblems(modelName, model, trainer))
      problems.push(`${source}: ${problem}`);
    // Each named sweep, checked as `sweep start` would check it (every swept value, like --set).
    for (const [sweepName, spec] of Object.entries(model.sweeps ?? {})) {
      try {
        planSweep(
          { model: modelName, task: model.task, trainer, base: model.training.hyperparameters },
          spec,
          sweepName,
        );
      } catch (err) {
        problems.push(`${source}: models.${modelName}.sweeps.${sweepName}: ${(err as Error).message}`);
      }
    }
  }
  if (problems.length) throw new ValidationError(problems.join('\n'));
  return { ...config, trainers };
}

/** loadConfig, then attachTrainers: what the CLI, `mlcycle up` and `cdk synth` start from. */
export function loadRunnableConfig(path = DEFAULT_CONFIG_PATH, root = process.cwd()): MlcycleConfig {
  return attachTrainers(loadConfig(path), path, root);
}
