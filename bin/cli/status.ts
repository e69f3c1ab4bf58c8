import type { Command } from 'commander';
import { type ModelStatus, modelStatusSchema } from '../../lambdas/contracts/status.js';
import { inContext, type RegisterCommands } from './types.js';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const figures = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${Number(v.toFixed(4))}`)
    .join(', ');

/** The human text of a model's status: one block per fact, in the order of the JSON. */
export function statusText(s: ModelStatus): string {
  const run = s.lastRun;
  const drift = s.drift;
  const cleanup = s.lastCleanup;
  return [
    `${s.model} (at ${s.at})`,
    ...s.stages.map((st) =>
      st.serving
        ? `  ${st.stage}: ${st.serving.version} since ${st.serving.since}${Object.keys(st.serving.metrics).length ? ` (${figures(st.serving.metrics)})` : ''}`
        : `  ${st.stage}: nothing serves`,
    ),
    run
      ? `  last run: ${run.runId} ${run.status} (${run.trigger}, ${run.stage}, started ${run.startedAt})${run.version ? ` → ${run.version}` : ''}${run.failure ? `; failed in ${run.failure.kind}: ${run.failure.error}: ${run.failure.cause}` : ''}${run.skipped ? `; skipped: ${run.skipped}` : ''}`
      : '  last run: none yet',
    s.nextRetrain.at
      ? `  next retrain: ${s.nextRetrain.at} (${s.nextRetrain.schedule} → ${s.nextRetrain.stage})`
      : `  next retrain: none scheduled (schedule.enabled is false)`,
    s.pendingApprovals.length
      ? `  pending approvals: ${s.pendingApprovals.map((a) => `${a.version} → ${a.stage} (${a.approvals}/${a.quorum}, ${a.requestId}, expires ${a.expiresAt})`).join('; ')}`
      : '  pending approvals: none',
    drift
      ? `  drift: ${drift.severity} (${drift.status}, ${(drift.driftedShare * 100).toFixed(0)}% of features drifted, ${drift.checkedAt})${drift.performance?.metrics ? `; live performance: ${figures(drift.performance.metrics)}` : ''}`
      : '  drift: no batch checked yet',
    cleanup
      ? `  last cleanup: ${cleanup.at} (${cleanup.trigger}, ${cleanup.actor}): archived ${cleanup.archived.join(', ') || 'nothing'}, reclaimed ${mb(cleanup.reclaimedBytes)}`
      : '  last cleanup: none yet',
  ].join('\n');
}

/** `mlcycle status <model>`: GET /status/{model} (signed with --aws), as a block of text or JSON. */
export const registerStatusCommand: RegisterCommands = (program, context) => {
  program
    .command('status')
    .description(
      'where a model stands: what serves each stage, the last run, the next retrain, pending approvals, drift, the last cleanup',
    )
    .argument('<model>', 'a model of the config')
    .option('--json', 'print JSON (the shape of GET /status/{model}, docs/operations.md)')
    .action(async (model: string, _o, cmd: Command) => {
      await inContext(context, cmd, async (ctx) => {
        const raw = await ctx.control.request<unknown>('GET', `/status/${encodeURIComponent(model)}`);
        const status = modelStatusSchema.parse(raw);
        ctx.output.result(status, () => statusText(status));
      });
    });
};
