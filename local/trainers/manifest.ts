import { readFileSync } from 'node:fs';
import { basename, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import {
  type Hyperparameters,
  type TrainerManifest,
  trainerManifestSchema,
} from '../../lambdas/contracts/trainer.js';
import { describeZodError } from '../../lambdas/contracts/zod-errors.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { validateHyperparameters } from '../../lambdas/domain/ml/trainer-hyperparameters.js';

export const TRAINER_MANIFEST_FILE = 'trainer.yaml';

/** A trainer folder and its validated trainer.yaml. */
export interface LoadedTrainer {
  /** Absolute path of the trainer folder. */
  readonly dir: string;
  /** The folder as people name it in messages (relative to the working directory when inside it). */
  readonly label: string;
  readonly manifest: TrainerManifest;
}

export function trainerLabel(dir: string, cwd = process.cwd()): string {
  const rel = relative(cwd, resolve(dir));
  return rel && !rel.startsWith('..') ? rel : resolve(dir);
}

/**
 * Reads `<dir>/trainer.yaml` and validates it against contract v1. Every problem is one line
 * naming the file, the key and the value; the trainer's `name` must be its folder's name.
 */
export function loadTrainer(dir: string): LoadedTrainer {
  const label = trainerLabel(dir);
  const file = `${label}/${TRAINER_MANIFEST_FILE}`;
  let text: string;
  try {
    text = readFileSync(resolve(dir, TRAINER_MANIFEST_FILE), 'utf8');
  } catch (err) {
    throw new ValidationError(
      `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): ` +
        'a trainer folder needs a trainer.yaml (see docs/trainer-contract.md)',
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ValidationError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = trainerManifestSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ValidationError(describeZodError(result.error, file));
  const folder = basename(resolve(dir));
  if (result.data.name !== folder) {
    throw new ValidationError(
      `${file}: name: got ${JSON.stringify(result.data.name)}: must be the folder's name ${JSON.stringify(folder)}`,
    );
  }
  return { dir: resolve(dir), label, manifest: result.data };
}

/**
 * The hyperparameters a run will pass, checked against what the trainer declares and with its
 * defaults filled in; a ValidationError names each bad key and value otherwise.
 */
export function checkTrainerHyperparameters(trainer: LoadedTrainer, given: unknown): Hyperparameters {
  const result = validateHyperparameters(trainer.manifest.hyperparameters, given);
  if (result.ok) return result.hyperparameters;
  throw new ValidationError(result.problems.map((p) => `${trainer.label}: ${p.message}`).join('\n'), {
    problems: result.problems,
  });
}
