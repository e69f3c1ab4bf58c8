import { join } from 'node:path';
import { BatchClient } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { Command } from 'commander';
import { BatchJobLogs, type JobLogSource, LocalJobLogs } from '../../lambdas/adapters/pipeline/job-logs.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { lifecycleJobName } from '../../lambdas/contracts/batch-jobs.js';
import { trainingQueueName } from '../../lambdas/contracts/names.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { type ComparisonRow, compareRuns } from '../../lambdas/domain/registry/run-comparison.js';
import { RUN_STATUSES, type RunStatus } from '../../lambdas/domain/registry/types.js';
import type { CancelRunResult } from '../../lambdas/services/pipeline/cancel-run.js';
import {
  comparable,
  findRun,
  listRuns,
  type RunHistoryDeps,
  type RunSummary,
  showRun,
} from '../../lambdas/services/registry/run-history.js';
import { readJobLogs } from '../../lambdas/services/registry/run-logs.js';
import { writeComparisonPage, writeRunPage } from '../../lambdas/services/registry/run-pages.js';
import { renderTable } from './output.js';
import { announcePage } from './run-pages.js';
import { type CliContext, configuredModel, inContext, type RegisterCommands } from './types.js';

/** `--since 7d`, `12h`, `30m` or an ISO time. */
export function parseSince(value: string, now = new Date()): Date {
  const relative = /^(\d+)([dhm])$/.exec(value.trim());
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as 'd' | 'h' | 'm'];
    return new Date(now.getTime() - Number(relative[1]) * unit);
  }
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) {
    throw new ValidationError(
      `--since "${value}" is not a duration or a time; use e.g. 7d, 12h, 30m or 2026-11-01T00:00:00Z`,
    );
  }
  return t;
}

const deps = (ctx: CliContext): RunHistoryDeps => ({
  bucket: ctx.bucket,
  objects: new S3Objects(ctx.s3),
  registry: new Registry(ctx.doc, ctx.tableName),
  models: Object.keys(ctx.config.models),
});

const fmtNumber = (v: unknown) =>
  typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v;
const fmtDuration = (s: number | null) =>
  s === null ? '' : s < 90 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`;
const compact = (o: Readonly<Record<string, unknown>>) =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${fmtNumber(v)}`)
    .join(' ');

function listRow(r: RunSummary) {
  return {
    model: r.model,
    run: r.runId,
    status: r.status,
    version: r.version ?? '',
    started: r.startedAt,
    duration: fmtDuration(r.durationSeconds),
    dataset: r.datasetSha256 ? `${r.datasetSha256.slice(0, 12)}…` : r.datasetUri.split('/').pop(),
    metrics: compact(r.metrics),
    parameters: compact(r.parameters),
  };
}

/** `runs compare`'s text: one row per fact, parameter and metric, a column per run, ≠ marking a difference. */
export function formatComparison(labels: readonly string[], rows: readonly ComparisonRow[]): string {
  const table = rows.map((row) => ({
    '': row.differs ? '≠' : '',
    section: row.section,
    name: row.name,
    ...Object.fromEntries(
      labels.map((label, i) => [label, `${fmtNumber(row.values[i]) ?? '-'}${row.best === i ? ' *' : ''}`]),
    ),
  }));
  // The cells (a parameter's value, a note) and the labels are shown neutralised by renderTable.
  return [renderTable(table), '≠ the runs differ; * the best value of a metric'].join('\n');
}

/** Which statuses a run is in while each of its jobs may still write. */
const WRITING: Record<'train' | 'predict', readonly string[]> = {
  train: ['training'],
  predict: ['training', 'evaluating'],
};

/**
 * Where a run's job wrote: the local batch runner's log file (the job's name under the state
 * folder's logs/), or the job's user container in CloudWatch Logs, found on the training queue.
 */
function logSource(
  ctx: CliContext,
  model: string,
  runId: string,
  kind: 'train' | 'predict',
): {
  source: JobLogSource;
  close(): void;
} {
  const name = lifecycleJobName(kind, model, runId);
  if (ctx.where.kind === 'local') {
    const registry = new Registry(ctx.doc, ctx.tableName);
    const ended = async () =>
      !WRITING[kind].includes((await registry.runs.getRun(model, runId))?.status ?? '');
    return { source: new LocalJobLogs(join(ctx.where.dir, 'logs', `${name}.log`), ended), close() {} };
  }
  const batch = new BatchClient(ctx.where.clientConfig);
  const logs = new CloudWatchLogsClient(ctx.where.clientConfig);
  return {
    source: new BatchJobLogs({ batch, logs }, { queue: trainingQueueName(ctx.config.project), name }),
    close() {
      batch.destroy();
      logs.destroy();
    },
  };
}

/** `mlcycle runs …`: the run records (experiment tracking) from the command line. */
export const registerRunsCommands: RegisterCommands = (program, context) => {
  const runs = program
    .command('runs')
    .description('pipeline runs: parameters, measured metrics, learning curves');

  runs
    .command('list')
    .description('runs, newest first, with their parameters, measured metrics, duration, version and dataset')
    .option('-m, --model <name>', 'only this model')
    .option('--status <status>', `only runs in this status (${RUN_STATUSES.join(', ')})`)
    .option('--since <when>', 'only runs started since (7d, 12h, 30m or an ISO time)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      if (opts.status && !RUN_STATUSES.includes(opts.status as RunStatus)) {
        throw new ValidationError(`--status "${opts.status}" is not one of ${RUN_STATUSES.join(', ')}`);
      }
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new ValidationError(`--limit "${opts.limit}" must be a whole number from 1 to 1000`);
      }
      const since = opts.since ? parseSince(opts.since) : undefined;
      await inContext(context, cmd, async (ctx) => {
        if (opts.model) configuredModel(ctx, opts.model);
        const found = await listRuns(deps(ctx), {
          ...(opts.model ? { model: opts.model } : {}),
          ...(opts.status ? { status: opts.status } : {}),
          ...(since ? { since } : {}),
          limit,
        });
        if (ctx.output.json) ctx.output.result(found, () => '');
        else ctx.output.table(found.map(listRow));
      });
    });

  runs
    .command('show <run>')
    .description('one run: what was asked, on which data, what was measured, and its per-epoch metrics')
    .option('-m, --model <name>', 'the run’s model (default: whichever has it)')
    .option('--page', 'also write its page (learning curves, tables) under reports/ and print its URL')
    .option('--open', 'as --page, and open the URL in a browser when run from a terminal')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        if (opts.model) configuredModel(ctx, opts.model);
        const r = await showRun(deps(ctx), runId, opts.model);
        const names = [...new Set(r.epochs.flatMap((e) => Object.keys(e)))];
        const page =
          opts.page || opts.open
            ? await announcePage(
                ctx,
                await writeRunPage({ ...deps(ctx), config: ctx.config }, r.runId, r.model),
                Boolean(opts.open),
              )
            : undefined;
        ctx.output.result(page ? { ...r, page } : r, () =>
          [
            `${r.model} run ${r.runId}  ${r.status}${r.version ? `  version ${r.version}` : ''}  for ${r.stage}`,
            `started ${r.startedAt} by ${r.requestedBy} (${r.trigger})${r.durationSeconds !== null ? `, ${fmtDuration(r.durationSeconds)}` : ''}`,
            r.note ? `note: ${r.note}` : '',
            `dataset: ${r.datasetUri}${r.datasetSha256 ? ` (sha256 ${r.datasetSha256})` : ''}`,
            `parameters: ${compact(r.parameters) || '(defaults)'}${r.overrides ? `  (set for this run: ${compact(r.overrides)})` : ''}`,
            `measured: ${compact(r.metrics) || '(nothing measured)'}`,
            Object.keys(r.reportedMetrics).length
              ? `reported by the trainer: ${compact(r.reportedMetrics)}`
              : '',
            r.cancelled ? `cancelled by ${r.cancelled.by} at ${r.cancelled.at}: ${r.cancelled.reason}` : '',
            r.failure ? `failure: ${r.failure}` : '',
            r.sweep
              ? `sweep ${r.sweep.id}, trial ${r.sweep.trial}${r.sweep.best ? ' (chosen)' : ''}${r.sweep.stopped ? `: ${r.sweep.stopped}` : ''}`
              : '',
            r.logs ? `logs: ${r.logs}` : '',
            r.epochs.length
              ? [
                  `per epoch (${r.epochs.length}, from ${r.epochsUri}):`,
                  `  ${names.join('  ')}`,
                  ...r.epochs.map(
                    (e) =>
                      `  ${names.map((n) => String(fmtNumber(e[n]) ?? '-').padEnd(n.length)).join('  ')}`,
                  ),
                ].join('\n')
              : 'per epoch: (the trainer wrote no metrics.jsonl)',
          ]
            .filter(Boolean)
            .join('\n'),
        );
      });
    });

  runs
    .command('logs <run>')
    .description('what a run’s training job (or its evaluation job) wrote; --follow until it ends')
    .option('-m, --model <name>', 'the run’s model (default: whichever has it)')
    .option('--job <kind>', 'train, or predict (the evaluation on the holdout)', 'train')
    .option('-f, --follow', 'keep printing until the job ends')
    .action(async (runId: string, opts, cmd: Command) => {
      if (opts.job !== 'train' && opts.job !== 'predict') {
        throw new ValidationError(`--job "${opts.job}" is not train or predict`);
      }
      await inContext(context, cmd, async (ctx) => {
        if (opts.model) configuredModel(ctx, opts.model);
        const run = await findRun(deps(ctx), runId, opts.model);
        const { source, close } = logSource(ctx, run.model, run.runId, opts.job);
        const stop = new AbortController();
        const interrupt = () => stop.abort();
        process.once('SIGINT', interrupt);
        try {
          await readJobLogs(source, {
            follow: Boolean(opts.follow),
            signal: stop.signal,
            // The job's own lines, as it wrote them (neutralised like every other line we print).
            onLines: (lines) => {
              for (const line of lines) ctx.output.info(line);
            },
          });
        } finally {
          process.off('SIGINT', interrupt);
          close();
        }
      });
    });

  runs
    .command('cancel <run>')
    .description('stop a run that is still going: its execution and its jobs (recorded with who and why)')
    .option('-m, --model <name>', 'the run’s model (default: whichever has it)')
    .requiredOption('--reason <text>', 'why, kept on the run')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        if (opts.model) configuredModel(ctx, opts.model);
        const run = await findRun(deps(ctx), runId, opts.model);
        // Who may cancel is the control API's to decide (the caller it authenticates).
        const out = await ctx.control.request<CancelRunResult>(
          'POST',
          `/runs/${encodeURIComponent(run.model)}/${encodeURIComponent(run.runId)}/cancel`,
          { reason: opts.reason },
        );
        ctx.output.result(out, () =>
          [
            `${out.model} run ${out.runId} cancelled (was ${out.was}) by ${out.cancelled.by}: ${out.cancelled.reason}`,
            out.trialOf
              ? `trial ${out.trialOf.trial} of sweep ${out.trialOf.sweepId}: its jobs are terminated (${out.trialOf.jobsStopped.length}), the sweep goes on without it (mlcycle sweep stop ${out.trialOf.sweepId} stops them all)`
              : out.executionStopped
                ? `execution ${out.executionArn} stopped; its jobs are being terminated`
                : 'its execution had already ended',
          ].join('\n'),
        );
      });
    });

  runs
    .command('compare <refs...>')
    .description('runs or versions side by side: parameters, metrics and data, differences marked')
    .option('-m, --model <name>', 'the model (needed for versions such as 1.2.0)')
    .option('--page', 'also write the comparison page (all runs on one chart per metric) and print its URL')
    .option('--open', 'as --page, and open the URL in a browser when run from a terminal')
    .option('--json', 'print JSON')
    .action(async (refs: string[], opts, cmd: Command) => {
      if (refs.length < 2) {
        throw new ValidationError(
          `runs compare needs at least two runs or versions, got ${refs.length}: ${refs.join(' ')}`,
        );
      }
      await inContext(context, cmd, async (ctx) => {
        if (opts.model) configuredModel(ctx, opts.model);
        const items = [];
        for (const ref of refs) items.push(await comparable(deps(ctx), ref, opts.model));
        const rows = compareRuns(items);
        const page =
          opts.page || opts.open
            ? await announcePage(
                ctx,
                await writeComparisonPage({ ...deps(ctx), config: ctx.config }, refs, opts.model),
                Boolean(opts.open),
              )
            : undefined;
        ctx.output.result({ runs: items, rows, ...(page ? { page } : {}) }, () =>
          formatComparison(refs, rows),
        );
      });
    });
};
