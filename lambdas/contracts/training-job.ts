import { z } from 'zod';

/**
 * A training-job manifest (`mlcycle train submit job.yaml`): a one-off run outside the schedule.
 * It asks for exactly what `mlcycle pipeline start` asks for — the same start service checks it
 * against the deployed config and records who asked, and the same state machine runs it (Admit,
 * Train, Evaluate, gates, approvals) — so a job file is a way to write a request down, never a
 * way around the pipeline. Unknown keys are refused by name.
 */
export const trainingJobSchema = z.strictObject({
  /** A model of the config. */
  model: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a model name from the config'),
  /** Target environment. @default the model's schedule stage */
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be an environment name from the config')
    .optional(),
  /** s3://<artifacts bucket>/datasets/<model>/… @default the newest object there */
  dataset: z
    .string()
    .regex(
      /^s3:\/\/[^/]+\/.+[^/]$/,
      'must be the s3:// URI of a dataset object (s3://<bucket>/datasets/<model>/…)',
    )
    .optional(),
  /** Why this run (shown to approvers); one-off runs say why. */
  reason: z
    .string()
    .trim()
    .min(1, 'must say why this run (shown to approvers)')
    .max(500, 'must be at most 500 characters'),
  /** Which part of the version to bump. @default minor */
  bump: z.enum(['major', 'minor', 'patch']).optional(),
  /** Hyperparameter overrides, checked against the trainer's trainer.yaml (like `--set`). */
  hyperparameters: z
    .record(
      z
        .string()
        .regex(
          /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
          'must be a hyperparameter name (letters, digits, underscores)',
        ),
      z.union([z.number(), z.string(), z.boolean()]),
    )
    .default({}),
  /** Follow the run until it ends (exit non-zero unless it succeeds). @default false */
  wait: z.boolean().default(false),
});
export type TrainingJob = z.infer<typeof trainingJobSchema>;
