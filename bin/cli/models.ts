import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { metricsSchema } from '../../lambdas/contracts/pipeline.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { requireStage } from '../../lambdas/domain/pipeline/admission.js';
import type { LedgerEntry, VersionRecord } from '../../lambdas/domain/registry/types.js';
import { type CliContext, inContext, type RegisterCommands } from './types.js';

function parseTime(value: string): Date {
  const t = new Date(value);
  if (Number.isNaN(t.getTime()))
    throw new ValidationError(`--at "${value}" is not a time; use ISO 8601, e.g. 2026-11-01T12:00:00Z`);
  return t;
}

function parseMetrics(value: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(value.trim().startsWith('{') ? value : readFileSync(value, 'utf8'));
  } catch (err) {
    throw new ValidationError(
      `--metrics "${value.slice(0, 60)}" is neither JSON nor a readable JSON file (${(err as Error).message})`,
      undefined,
      { cause: err },
    );
  }
  const parsed = metricsSchema.partial().safeParse(raw);
  if (!parsed.success)
    throw new ValidationError(
      `--metrics: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
    );
  return parsed.data;
}

async function withRegistry<T>(ctx: CliContext, fn: (registry: Registry) => Promise<T>): Promise<T> {
  try {
    return await fn(new Registry(ctx.doc, ctx.tableName));
  } finally {
    await ctx.close();
  }
}

/** `mlcycle models …`: the registry from the command line (the same registry adapters the handlers use). */
export const registerModelsCommands: RegisterCommands = (program, context) => {
  const models = program
    .command('models')
    .description('the model registry: versions, stages, ledger, rollback');

  models
    .command('list')
    .description('models with their latest version and what serves each stage')
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) => {
      const ctx = await context(cmd);
      await withRegistry(ctx, async (registry) => {
        const rows = (await registry.catalog.listModels()).map((m) => ({
          model: m.model,
          latest: m.latestVersion,
          versions: m.versionCount,
          ...Object.fromEntries(Object.keys(ctx.config.environments).map((s) => [s, m.stages[s] ?? '-'])),
        }));
        ctx.output.table(rows);
      });
    });

  models
    .command('show <model> [version]')
    .description('a version with its metrics, lineage and status history (default: every version)')
    .option('--json', 'print JSON')
    .action(async (model: string, version: string | undefined, _o, cmd: Command) => {
      const ctx = await context(cmd);
      await withRegistry(ctx, async (registry) => {
        if (version) {
          const v = await registry.versions.requireVersion(model, version);
          ctx.output.result(v, () =>
            [
              `${model} ${v.version}  status ${v.status}  created ${v.createdAt}`,
              `metrics: ${Object.entries(v.metrics)
                .map(([k, x]) => `${k} ${Number(x).toFixed(4)}`)
                .join(', ')}`,
              `lineage: run ${v.lineage.runId}, parent ${v.lineage.parentVersion ?? '-'}, code ${v.lineage.codeVersion}`,
              `  dataset ${v.lineage.datasetUri} (sha256 ${v.lineage.datasetSha256.slice(0, 12)}…)`,
              `  artifact ${v.lineage.artifactUri} (sha256 ${v.lineage.artifactSha256.slice(0, 12)}…), ${v.lineage.framework}`,
              `  by ${v.lineage.author}; hyperparameters ${JSON.stringify(v.lineage.hyperparameters)}`,
              'status history:',
              ...v.statusHistory.map(
                (s) => `  ${s.at}  ${s.from ?? '-'} → ${s.to}  by ${s.actor}: ${s.reason}`,
              ),
            ].join('\n'),
          );
        } else {
          const versions = await registry.versions.listVersions(model);
          if (!versions.length) await registry.versions.requireVersion(model, '0.0.0');
          ctx.output.table(
            versions.map((v) => ({
              version: v.version,
              status: v.status,
              auc: v.metrics.auc,
              f1: v.metrics.f1,
              run: v.lineage.runId,
              created: v.createdAt,
            })),
          );
        }
      });
    });

  models
    .command('history <model>')
    .description('the promotion ledger; with --at, what was serving at that time')
    .option('-s, --stage <stage>', 'only this stage')
    .option('--at <time>', 'ISO time: show the entry in force then')
    .option('--json', 'print JSON')
    .action(async (model: string, opts: { stage?: string; at?: string }, cmd: Command) => {
      const ctx = await context(cmd);
      await withRegistry(ctx, async (registry) => {
        if (opts.stage) requireStage(ctx.config, opts.stage);
        const at = opts.at ? parseTime(opts.at) : undefined;
        // With --at, what was serving then: the entry in force per stage.
        const entries = at
          ? await registry.stages.inForceAt(model, at, opts.stage)
          : await registry.stages.history(model, opts.stage ? { stage: opts.stage } : {});
        ctx.output.table(
          entries.map((e) => ({
            stage: e.stage,
            seq: e.seq,
            at: e.at,
            // A rollout entry says which event and the canary's share after it.
            action: e.evidence.rollout
              ? `rollout ${e.evidence.rollout.event} ${e.evidence.rollout.rolloutId} (${(e.evidence.rollout.variants[0]?.weight ?? 0) / 100} %)`
              : e.action,
            from: e.fromVersion ?? '-',
            to: e.toVersion,
            by: e.actor,
            reason: e.reason,
            approvals: Array.isArray(e.evidence.approvals)
              ? (e.evidence.approvals as { approver: string; decision?: string }[])
                  .map((a) => (a.decision === 'reject' ? `${a.approver} (rejected)` : a.approver))
                  .join(' ')
              : '',
          })),
        );
      });
    });

  models
    .command('register <model>')
    .description(
      'register an artifact trained elsewhere (from s3://<bucket>/runs/<model>/…) as a new version; its metrics are kept as reported',
    )
    .requiredOption('--artifact <s3uri>', 'model artifact under runs/<model>/ of the artifacts bucket')
    .requiredOption('--sha256 <hex>', "the artifact's sha256")
    .option(
      '--metrics <json|file>',
      'metrics you measured, e.g. \'{"auc":0.81}\' (stored as reported; gates use measured ones)',
    )
    .option('--version <semver>', 'explicit version (refused if it exists)')
    .option('--bump <part>', 'major, minor or patch', 'minor')
    .option('--dataset <s3uri>', 'training dataset', '')
    .option('--dataset-sha256 <hex>', '', '')
    .option('--code-version <sha>', 'git sha of the training code', 'unknown')
    .option('--framework <name>', 'framework and version', 'external')
    .option('--json', 'print JSON')
    .action(async (model: string, o, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        if (!['major', 'minor', 'patch'].includes(o.bump))
          throw new ValidationError(`--bump "${o.bump}" must be major, minor or patch`);
        // The server checks the artifact's place and bytes, and records who registered it.
        const v = await ctx.control.request<VersionRecord>('POST', '/versions', {
          model,
          artifact: o.artifact,
          sha256: o.sha256,
          metrics: o.metrics ? parseMetrics(o.metrics) : {},
          ...(o.version ? { version: o.version } : { bump: o.bump }),
          dataset: o.dataset,
          datasetSha256: o.datasetSha256,
          codeVersion: o.codeVersion,
          framework: o.framework,
        });
        ctx.output.result(
          v,
          () =>
            `registered ${model} ${v.version} (validating, metrics reported: not gated on); promote it with: mlcycle models promote ${model} ${v.version} --stage <stage>`,
        );
      });
    });

  models
    .command('rollback <model>')
    .description(
      'move a stage back to a version that served it before (the previous one, or --to), validated and audited',
    )
    .requiredOption('-s, --stage <stage>', 'stage to roll back')
    .option('--to <version>', 'a version that served the stage before (default: the one before the current)')
    .requiredOption('--reason <text>', 'why (kept in the ledger)')
    .option('--json', 'print JSON')
    .action(async (model: string, o: { stage: string; to?: string; reason: string }, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        if (!o.reason.trim()) throw new ValidationError('--reason must say why you roll back');
        // Who may roll back, and to what, is the deployed policy's to decide.
        const out = await ctx.control.request<{
          entry: LedgerEntry;
          manifest: { download: { url: string } };
          invalidation: { id: string } | { error: string } | null;
        }>('POST', '/rollbacks', {
          model,
          stage: o.stage,
          ...(o.to ? { to: o.to } : {}),
          reason: o.reason,
        });
        ctx.output.result(
          out,
          () =>
            `${model} ${o.stage}: ${out.entry.fromVersion} → ${out.entry.toVersion} (ledger #${out.entry.seq}, by ${out.entry.actor}); manifest republished, clients download ${out.manifest.download.url}` +
            (out.invalidation && 'error' in out.invalidation
              ? `\nwarning: the CDN kept the previous manifest (${out.invalidation.error}); edges catch up within 60 s`
              : ''),
        );
      });
    });

  models
    .command('stats [model]')
    .description('counts by stage and status, deployments in the last 7 days, pending promotions')
    .option('--json', 'print JSON')
    .action(async (model: string | undefined, _o, cmd: Command) => {
      const ctx = await context(cmd);
      await withRegistry(ctx, async (registry) => {
        const s = await registry.catalog.stats(model);
        ctx.output.result(s, () =>
          [
            `models: ${s.models}`,
            `versions by status: ${
              Object.entries(s.versionsByStatus)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ') || 'none'
            }`,
            `serving by stage: ${
              Object.entries(s.servingByStage)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ') || 'none'
            }`,
            `deployments in the last 7 days: ${s.deploymentsLast7Days}`,
            `pending promotions (validating): ${s.pendingPromotions}`,
          ].join('\n'),
        );
      });
    });
};
