import { basename } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { type DriftRecord, DriftStore } from '../../lambdas/adapters/drift/drift-store.js';
import { formatOf } from '../../lambdas/adapters/drift/object-stream.js';
import { SEVERITIES, type Severity } from '../../lambdas/contracts/drift-summary.js';
import { type MonitoringUpload, monitoringKey } from '../../lambdas/contracts/s3-layout.js';
import { measuredLine } from '../../lambdas/domain/drift/measured.js';
import { describeBreach } from '../../lambdas/domain/drift/performance-breach.js';
import { summarizeTrend } from '../../lambdas/domain/drift/trend.js';
import { DataError, NotFoundError, ValidationError } from '../../lambdas/domain/errors.js';
import { inProcessStack } from './context.js';
import { registerBaselineCommands } from './drift-baselines.js';
import { type CliContext, configuredModel, inContext, type RegisterCommands } from './types.js';
import { localFileSize, uploadFile } from './upload.js';

/** Polls for the record the S3 event produced for a key (local or AWS alike). */
export async function waitForDriftRecord(
  doc: DynamoDBDocumentClient,
  tableName: string,
  model: string,
  batchKey: string,
  timeoutMs: number,
): Promise<DriftRecord> {
  const store = new DriftStore(doc, tableName);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await store.findRecord(model, batchKey);
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `no result for ${batchKey} after ${Math.round(timeoutMs / 1000)} s; is the S3 notification wired (mlcycle up running)?`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `drift check --fail-on`: exit code when the drift found is at or above the threshold (2 is bad input). */
export const DRIFT_EXIT_CODE = 3;
const FAIL_ON = SEVERITIES.filter((s) => s !== 'none');

function parseFailOn(value: string): Severity {
  const found = FAIL_ON.find((s) => s === value.trim().toLowerCase());
  if (!found) throw new ValidationError(`--fail-on "${value}" must be one of ${FAIL_ON.join(', ')}`);
  return found;
}

const atOrAbove = (severity: Severity, threshold: Severity) =>
  SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(threshold);

async function uploadAndWait(
  ctx: CliContext,
  model: string,
  file: string,
  kind: MonitoringUpload,
  timeout: number,
) {
  configuredModel(ctx, model);
  const size = localFileSize(file);
  formatOf(file);
  // Refused here rather than uploaded: the handler would only record that there is no baseline.
  if (kind === 'batches' && !(await new DriftStore(ctx.doc, ctx.tableName).getBaseline(model))) {
    throw new NotFoundError(
      `no baseline for ${model}; profile one first: mlcycle drift baseline ${model} <file>`,
    );
  }
  const key = monitoringKey(
    model,
    kind,
    `${new Date().toISOString().replace(/[:.]/g, '-')}-${basename(file)}`,
  );
  ctx.output.info(`uploading ${file} (${(size / 1e6).toFixed(1)} MB) → s3://${ctx.bucket}/${key}`);
  await uploadFile(ctx, key, file);
  await inProcessStack()?.notifications.idle();
  return waitForDriftRecord(ctx.doc, ctx.tableName, model, key, timeout * 1000);
}

/** Prints a drift record: the human lines, or with --json the record itself. */
export function show(ctx: CliContext, record: DriftRecord) {
  if (record.status === 'error') {
    // The record is the machine-readable answer; the error is the one line on stderr (exit 2).
    if (ctx.output.json) ctx.output.result(record, () => '');
    throw new DataError(
      `${record.kind} ${record.batchKey} could not be processed: ${record.error ?? 'unknown error'}`,
    );
  }
  ctx.output.result(record, () =>
    [
      `${record.kind} ${record.batchKey}: ${record.status}`,
      record.kind === 'batch'
        ? `overall ${record.overallSeverity}; ${(record.driftedShare * 100).toFixed(0)}% of features drifted; ${record.rows} rows`
        : `${record.rows} rows profiled`,
      record.baselineKey ? `compared with baseline ${record.baselineKey}` : '',
      ...record.features.flatMap((f) => [
        `  ${f.name.padEnd(24)} ${f.method.padEnd(24)} ${f.score === null ? 'n/a' : f.score.toFixed(4)}  ${f.severity}`,
        // what was measured, under the decision: raw distance, noise margin, p-value, W/σ, PSI, missing %
        ...(f.measured ? [`      ${measuredLine(f.measured)}`] : []),
      ]),
      // The model's live-performance thresholds this batch broke (alerted on their own).
      ...(record.performanceBreaches ?? []).map((b) => `performance: ${describeBreach(b, record.model)}`),
      ...(record.warnings ?? []).map((w) => `warning: ${w}`),
      record.reportUri ? `report: ${record.reportUri}` : '',
    ]
      .filter(Boolean)
      .join('\n'),
  );
}

export const registerDriftCommands: RegisterCommands = (program, context) => {
  const drift = program.command('drift').description('baselines, drift checks and trend reports');

  for (const [name, kind, what] of [
    ['baseline', 'baseline', 'profile a file as the model’s baseline'],
    ['check', 'batches', 'compare a production batch with the baseline'],
  ] as const) {
    const command = drift
      .command(`${name} <model> <file>`)
      .description(`${what} (uploads it; the S3 event runs the handler)`)
      .option('--timeout <seconds>', 'how long to wait for the result', '300')
      .option('--json', 'print JSON');
    if (kind === 'batches') {
      command.option(
        '--fail-on <severity>',
        `exit ${DRIFT_EXIT_CODE} when the overall severity is at or above this (${FAIL_ON.join('|')}), to gate a CI job`,
      );
    }
    command.action(
      async (model: string, file: string, o: { timeout: string; failOn?: string }, cmd: Command) => {
        const timeout = Number(o.timeout);
        if (!Number.isFinite(timeout) || timeout <= 0)
          throw new ValidationError(`--timeout "${o.timeout}" must be a positive number of seconds`);
        const failOn = o.failOn === undefined ? undefined : parseFailOn(o.failOn);
        await inContext(context, cmd, async (ctx) => {
          const record = await uploadAndWait(ctx, model, file, kind, timeout);
          show(ctx, record);
          if (failOn && record.kind === 'batch' && atOrAbove(record.overallSeverity, failOn)) {
            // stderr, so that --json keeps one JSON object as stdout's last line.
            process.stderr.write(
              `mlcycle: drift severity ${record.overallSeverity} is at or above --fail-on ${failOn} (exit ${DRIFT_EXIT_CODE})\n`,
            );
            process.exitCode = DRIFT_EXIT_CODE;
          }
        });
      },
    );
  }

  drift
    .command('report <model>')
    .description('drift trend over the last N days')
    .option('--days <n>', 'days to cover', '7')
    .option('--json', 'print JSON')
    .action(async (model: string, o: { days: string }, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        configuredModel(ctx, model);
        const days = Number(o.days);
        if (!Number.isInteger(days) || days < 1 || days > 366)
          throw new ValidationError(`--days "${o.days}" must be 1-366`);
        const since = new Date(Date.now() - days * 86_400_000);
        const all = await new DriftStore(ctx.doc, ctx.tableName).listRecords(model, since, {
          includeDiscarded: true,
        });
        // batches set aside with drift discard-batch are left out, and counted
        const discardedBatches = all.filter((r) => r.discarded).length;
        const trend = {
          ...summarizeTrend(
            all.filter((r) => !r.discarded),
            days,
          ),
          discardedBatches,
        };
        ctx.output.result(trend, () =>
          [
            `${model}: ${trend.batches} batches in ${days} days (${trend.errors} failed); worst ${trend.worstSeverity}`,
            ...(discardedBatches
              ? [`(${discardedBatches} discarded, left out: mlcycle drift baselines ${model} shows why)`]
              : []),
            ...trend.days.map(
              (d) =>
                `  ${d.day}  ${String(d.batches).padStart(3)} batches  worst ${d.worstSeverity.padEnd(8)} drifted ${(d.meanDriftedShare * 100).toFixed(0)}%`,
            ),
            'most often drifted:',
            ...trend.topFeatures.map(
              (f) => `  ${f.name.padEnd(24)} ${f.drifted}/${trend.batches} batches, worst ${f.worstSeverity}`,
            ),
          ].join('\n'),
        );
      });
    });

  registerBaselineCommands(drift, context);
};
