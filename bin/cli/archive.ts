import type { Command } from 'commander';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { applyRetention } from '../../lambdas/services/registry/retention.js';
import { inContext, type RegisterCommands } from './types.js';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

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
    .description('apply the retention policy (keep the newest N, serving and rollback targets)')
    .option('--dry-run', 'report what would be archived without changing anything')
    .option('--json', 'print JSON')
    .action(async (o: { dryRun?: boolean }, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        const report = await applyRetention(
          {
            registry: new Registry(ctx.doc, ctx.tableName),
            objects: new S3Objects(ctx.s3),
            bucket: ctx.bucket,
          },
          {
            keepLastVersions: ctx.config.archival.keepLastVersions,
            dryRun: Boolean(o.dryRun) || ctx.config.archival.dryRun,
            actor: ctx.actor ?? 'mlcycle-cli (aws)',
          },
        );
        ctx.output.result(report, () =>
          [
            `${report.dryRun ? 'dry run: would reclaim' : 'reclaimed'} ${mb(report.reclaimedBytes)}`,
            ...report.models.flatMap((m) => [
              `${m.model}: keep ${m.kept.map((k) => `${k.version} (${k.reasons.join('; ')})`).join(', ') || 'nothing'}`,
              `${m.model}: ${report.dryRun ? 'would archive' : 'archived'} ${m.archived.map((a) => a.version).join(', ') || 'nothing'} (${m.deletedObjects} objects)`,
            ]),
          ].join('\n'),
        );
      });
    });

  archive
    .command('stats')
    .description('bytes and objects per top-level prefix of the artifacts bucket')
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
        ctx.output.table(
          [...totals.entries()].map(([prefix, t]) => ({ prefix, objects: t.objects, size: mb(t.bytes) })),
        );
      });
    });
};
