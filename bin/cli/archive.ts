import type { Command } from 'commander';
import { CleanupHistory } from '../../lambdas/adapters/registry/cleanup-history.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import {
  applyRetention,
  type CleanupReport,
  retentionRules,
} from '../../lambdas/services/registry/retention.js';
import { renderTable } from './output.js';
import type { CliContext } from './types.js';
import { inContext, type RegisterCommands } from './types.js';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

const retentionDeps = (ctx: CliContext) => ({
  registry: new Registry(ctx.doc, ctx.tableName),
  history: new CleanupHistory(ctx.doc, ctx.tableName),
  objects: new S3Objects(ctx.s3),
  bucket: ctx.bucket,
});

/** `--model` must name a model of the config. */
function checkModel(ctx: CliContext, model: string | undefined): void {
  if (model !== undefined && !ctx.config.models[model])
    throw new ValidationError(
      `--model "${model}" is not a model of the config (${Object.keys(ctx.config.models).join(', ')})`,
    );
}

const registeredModels = async (ctx: CliContext) =>
  (await new Registry(ctx.doc, ctx.tableName).catalog.listModels()).map((m) => m.model);

/** Per model: the last cleanup, how many there were and the bytes they reclaimed in all. */
async function cleanupTotals(ctx: CliContext) {
  const history = new CleanupHistory(ctx.doc, ctx.tableName);
  return Promise.all(
    (await registeredModels(ctx)).map(async (model) => {
      const records = await history.list(model, Number.MAX_SAFE_INTEGER);
      return {
        model,
        last: records[0] ?? null,
        cleanups: records.length,
        totalReclaimedBytes: records.reduce((s, r) => s + r.reclaimedBytes, 0),
      };
    }),
  );
}

/** The human text of a cleanup: per model what it (would) archive and why, and what it keeps. */
function cleanupText(report: CleanupReport): string {
  const verb = report.dryRun ? 'would archive' : 'archived';
  return [
    `${report.dryRun ? 'dry run: would reclaim' : 'reclaimed'} ${mb(report.reclaimedBytes)} (${report.reclaimedBytes} bytes)`,
    ...report.models.flatMap((m) => [
      ...(m.skipped ? [`${m.model}: skipped: ${m.skipped}`] : []),
      ...m.archived.map(
        (a) =>
          `${m.model}: ${verb} ${a.version}: ${a.reasons.join('; ')} (${a.objects} objects, ${a.bytes} bytes)`,
      ),
      ...(m.archived.length || m.skipped ? [] : [`${m.model}: ${verb} nothing`]),
      ...m.kept.map((k) => `${m.model}: keep ${k.version}: ${k.reasons.join('; ')}`),
    ]),
  ].join('\n');
}

/** `mlcycle archive …`: retention and storage, with the policy the daily Lambda applies. */
export const registerArchiveCommands: RegisterCommands = (program, context) => {
  const archive = program.command('archive').description('retention policy, large objects, storage stats');

  archive
    .command('scan')
    .description('objects in the artifacts bucket above a size')
    .option('--threshold-mb <n>', 'size threshold (default: archival.largeObjectThresholdMb)')
    .option('--json', 'print JSON')
    .action(async (o: { thresholdMb?: string }, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        const threshold = Number(o.thresholdMb ?? ctx.config.archival.largeObjectThresholdMb);
        if (!(threshold > 0))
          throw new ValidationError(`--threshold-mb "${o.thresholdMb}" must be a positive number`);
        const objects = (await new S3Objects(ctx.s3).list(ctx.bucket, ''))
          .filter((x) => x.size >= threshold * 1e6)
          .sort((a, b) => b.size - a.size);
        ctx.output.table(
          objects.map((x) => ({ key: x.key, size: mb(x.size), modified: x.lastModified.toISOString() })),
        );
      });
    });

  archive
    .command('cleanup')
    .description(
      'apply the retention policy: archive versions beyond the newest N or older than maxAgeDays, never what serves, a rollback target, or below the floor',
    )
    .option(
      '--dry-run',
      'print what the real run would archive and the bytes it would reclaim; change nothing',
    )
    .option('--model <name>', 'only this model')
    .option('--json', 'print JSON')
    .action(async (o: { dryRun?: boolean; model?: string }, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        checkModel(ctx, o.model);
        const report = await applyRetention(retentionDeps(ctx), {
          rules: retentionRules(ctx.config.archival),
          dryRun: Boolean(o.dryRun) || ctx.config.archival.dryRun,
          actor: ctx.actor ?? 'mlcycle-cli (aws)',
          trigger: 'manual',
          ...(o.model ? { models: [o.model] } : {}),
        });
        ctx.output.result(report, () => cleanupText(report));
      });
    });

  archive
    .command('history')
    .description('what past cleanups archived, when, why, the bytes they reclaimed, and what started them')
    .option('--model <name>', 'only this model')
    .option('--limit <n>', 'cleanups per model (newest first)', '20')
    .option('--json', 'print JSON')
    .action(async (o: { model?: string; limit: string }, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        checkModel(ctx, o.model);
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new ValidationError(`--limit "${o.limit}" must be a whole number of at least 1`);
        const history = new CleanupHistory(ctx.doc, ctx.tableName);
        const models = o.model ? [o.model] : await registeredModels(ctx);
        const records = (await Promise.all(models.map((m) => history.list(m, limit))))
          .flat()
          .sort((a, b) => b.at.localeCompare(a.at));
        if (ctx.output.json) return ctx.output.result(records, () => '');
        ctx.output.table(
          records.map((r) => ({
            at: r.at,
            model: r.model,
            trigger: r.trigger,
            actor: r.actor,
            archived: r.archived.map((a) => `${a.version} (${a.reasons.join('; ')})`).join(', ') || '-',
            reclaimed: mb(r.reclaimedBytes),
          })),
        );
      });
    });

  archive
    .command('stats')
    .description(
      'bytes and objects per top-level prefix of the artifacts bucket; per model the last cleanup and the bytes cleanups reclaimed in all',
    )
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        const totals = new Map<string, { objects: number; bytes: number }>();
        for (const x of await new S3Objects(ctx.s3).list(ctx.bucket, '')) {
          const prefix = `${x.key.split('/')[0]}/`;
          const t = totals.get(prefix) ?? { objects: 0, bytes: 0 };
          t.objects++;
          t.bytes += x.size;
          totals.set(prefix, t);
        }
        const prefixes = [...totals.entries()].map(([prefix, t]) => ({
          prefix,
          objects: t.objects,
          bytes: t.bytes,
        }));
        const cleanups = await cleanupTotals(ctx);
        ctx.output.result({ prefixes, cleanups }, () =>
          [
            renderTable(prefixes.map((p) => ({ prefix: p.prefix, objects: p.objects, size: mb(p.bytes) }))),
            '',
            renderTable(
              cleanups.map((c) => ({
                model: c.model,
                'last cleanup': c.last
                  ? `${c.last.at} (${c.last.trigger}, ${c.last.archived.length} archived)`
                  : 'never',
                'total reclaimed': mb(c.totalReclaimedBytes),
                cleanups: c.cleanups,
              })),
            ),
          ].join('\n'),
        );
      });
    });
};
