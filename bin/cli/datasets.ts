import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { datasetKey } from '../../lambdas/contracts/s3-layout.js';
import { ConflictError, ValidationError } from '../../lambdas/domain/errors.js';
import { datasetProblem } from '../../lambdas/domain/profile/input-guard.js';
import { datasetCandidates } from '../../lambdas/services/pipeline/prepare-run.js';
import { SYNTHETIC_DATASETS, syntheticDatasetFor } from '../../local/data/synthetic.js';
import { configuredModel, inContext, type RegisterCommands } from './types.js';
import { localFileSize, uploadFile } from './upload.js';

/** `mlcycle datasets …`: put training data where the pipeline looks for it (datasets/<model>/). */
export const registerDatasetCommands: RegisterCommands = (program, context) => {
  const datasets = program.command('datasets').description('training datasets under datasets/<model>/');

  datasets
    .command('upload <model> <file>')
    .description(
      'upload a CSV (checked first: text, a header with the target column, data rows); the next pipeline run trains on the newest one',
    )
    .option('--replace', 'replace a dataset of the same name (refused otherwise)')
    .option('--json', 'print JSON')
    .action(async (model: string, file: string, o: { replace?: boolean }, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        configuredModel(ctx, model);
        const size = localFileSize(file);
        const target = ctx.config.models[model]?.target ?? '';
        const problem = datasetProblem(readHead(file), target, size <= HEAD_BYTES);
        if (problem) throw new ValidationError(`${file} was not uploaded: ${problem}`);
        const key = datasetKey(model, basename(file));
        if (!o.replace && (await new S3Objects(ctx.s3).head({ bucket: ctx.bucket, key }))) {
          throw new ConflictError(
            `s3://${ctx.bucket}/${key} already exists; rename the file, or pass --replace to replace it`,
          );
        }
        const uri = await uploadFile(ctx, key, file);
        ctx.output.result({ uri }, () => `uploaded ${uri}`);
      });
    });

  datasets
    .command('list <model>')
    .description(
      'the datasets under datasets/<model>/, newest first: the first is what the next run trains on',
    )
    .option('--json', 'print JSON')
    .action(async (model: string, _o, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        configuredModel(ctx, model);
        const found = await datasetCandidates(new S3Objects(ctx.s3), ctx.bucket, model);
        const rows = found.map((o, i) => ({
          uri: `s3://${ctx.bucket}/${o.key}`,
          bytes: o.size,
          lastModified: o.lastModified.toISOString(),
          nextRun: i === 0,
        }));
        ctx.output.result(rows, () =>
          rows.length
            ? rows
                .map(
                  (r) =>
                    `${r.lastModified}  ${String(r.bytes).padStart(12)}  ${r.uri}${r.nextRun ? '  ← the next run trains on this' : ''}`,
                )
                .join('\n')
            : `no datasets under s3://${ctx.bucket}/datasets/${model}/; upload one: mlcycle datasets upload ${model} <file.csv>`,
        );
      });
    });

  datasets
    .command('generate <model>')
    .description(
      "upload the seeded synthetic player table for the model's target (churned, ltv_90d or segment: what the demo trains on)",
    )
    .option('--rows <n>', 'rows', '20000')
    .option('--seed <n>', 'seed', '42')
    .option('--json', 'print JSON')
    .action(async (model: string, o: { rows: string; seed: string }, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        configuredModel(ctx, model);
        const target = ctx.config.models[model]?.target ?? '';
        const synthetic = syntheticDatasetFor(target);
        if (!synthetic) {
          throw new ValidationError(
            `model ${model} predicts "${target}"; the synthetic tables predict ${SYNTHETIC_DATASETS.map((d) => `"${d.target}"`).join(', ')}: upload your own data with \`mlcycle datasets upload ${model} <file.csv>\``,
          );
        }
        const rows = Number(o.rows);
        const seed = Number(o.seed);
        if (!Number.isInteger(rows) || rows < 100)
          throw new ValidationError(`--rows "${o.rows}" must be an integer ≥ 100`);
        if (!Number.isInteger(seed)) throw new ValidationError(`--seed "${o.seed}" must be an integer`);
        const key = datasetKey(model, `${model}-synthetic-seed${seed}.csv`);
        await new S3Objects(ctx.s3).put({ bucket: ctx.bucket, key }, synthetic.csv(rows, seed), 'text/csv');
        ctx.output.result(
          { uri: `s3://${ctx.bucket}/${key}`, rows },
          () => `uploaded ${rows} rows to s3://${ctx.bucket}/${key}`,
        );
      });
    });
};

const HEAD_BYTES = 1 << 20;

/** The first megabyte of a local file, what datasetProblem checks. */
function readHead(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    return buf.subarray(0, readSync(fd, buf, 0, HEAD_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}
