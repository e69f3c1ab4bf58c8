import type { RolloutRecord } from '../../lambdas/contracts/rollout-record.js';
import { monitoringKey } from '../../lambdas/contracts/s3-layout.js';
import type { StartedExecution } from '../../lambdas/services/pipeline/start.js';
import type { RolloutStatus } from '../../lambdas/services/rollouts/status.js';
import { type RolloutArm, rolloutBatchCsv } from '../../local/data/rollout-batch.js';
import { readOutbox } from './demo-approver.js';
import { followWithApprovals, type LifecycleContext, trainAndDeploy } from './demo-lifecycle.js';

/** What the demo's canary did: its rollout, how it ended, after how many batches, and the alert. */
export interface DemoCanary {
  readonly control: string;
  readonly canary: string | null;
  readonly rolloutId: string | null;
  readonly status: RolloutRecord['status'] | 'not-started';
  readonly ended: RolloutRecord['ended'] | null;
  readonly batches: number;
  readonly alert: string | null;
}

/** The control's telemetry, and a canary that errs five times as often. */
const CONTROL: RolloutArm = { errorRate: 0.01, latencyMedianMs: 40, conversion: 0.1 };
const WORSE: RolloutArm = { ...CONTROL, errorRate: 0.05 };
const MAX_BATCHES = 8;

async function promote(ctx: LifecycleContext, model: string, body: Record<string, unknown>) {
  const before = readOutbox(ctx.stack.endpoints.outboxDir).length;
  const started = await ctx.control.request<StartedExecution>('POST', '/promotions', { model, ...body });
  ctx.info(`▶ ${started.executionArn.split(':').pop()}`);
  return followWithApprovals(ctx, model, String(body.stage), started.executionArn, before);
}

/**
 * A canary on production, as a studio would run one: the version serving staging is promoted to
 * production (its approvers' quorum through the emailed links), a retrain on fresh data gives the
 * next version, which starts as a 10 % canary (the same gates and approvals), then a day's
 * telemetry per batch — players assigned by the published rule, the canary erring five times as
 * often — goes to monitoring/ until the guardrail aborts the rollout by itself.
 */
export async function demoCanary(
  ctx: LifecycleContext,
  model: string,
  control: string,
  rows: number,
  score: NonNullable<Parameters<typeof rolloutBatchCsv>[0]['score']>,
): Promise<DemoCanary> {
  const { info, objects, stack } = ctx;
  const notStarted = (canary: string | null): DemoCanary => ({
    control,
    canary,
    rolloutId: null,
    status: 'not-started',
    ended: null,
    batches: 0,
    alert: null,
  });
  info(`▶ canary: ${model} ${control} to production first, then a retrained version as a 10 % canary`);
  const first = await promote(ctx, model, { version: control, stage: 'production', reason: 'demo: release' });
  if (first.final.status !== 'SUCCEEDED') return notStarted(null);
  // A retrain on fresh player data (the next seed): the next version.
  const next = await trainAndDeploy({ ...ctx, seed: ctx.seed + 1 }, model, rows);
  if (!next.version || next.final.status !== 'SUCCEEDED') return notStarted(next.version);
  const start = await promote(ctx, model, {
    version: next.version,
    stage: 'production',
    reason: 'demo: canary of the retrained model',
    rollout: { percent: 10 },
  });
  const path = `/rollouts/${model}/production`;
  let status = await ctx.control.request<RolloutStatus>('GET', path);
  if (start.final.status !== 'SUCCEEDED' || status.rollout.status !== 'active')
    return notStarted(next.version);
  const { rolloutId } = status.rollout;
  info(`▶ rollout ${rolloutId}: ${next.version} to 10 % of players, ${control} to the rest`);
  const alertsBefore = readOutbox(stack.endpoints.outboxDir).length;
  let batches = 0;
  while (status.rollout.status === 'active' && batches < MAX_BATCHES) {
    batches++;
    const key = monitoringKey(model, 'batches', `canary-day-${batches}.csv`);
    const csv = rolloutBatchCsv({
      rows: 4000,
      seed: ctx.seed + 500 + batches,
      rolloutId,
      variants: status.rollout.steps.at(-1)?.variants ?? [],
      arms: { canary: WORSE, control: CONTROL },
      score,
    });
    await objects.put({ bucket: stack.endpoints.bucket, key }, csv, 'text/csv');
    await stack.notifications.idle();
    status = await ctx.control.request<RolloutStatus>('GET', path);
    info(
      `  day ${batches}: ${status.decision.variants.map((v) => `${v.name} ${v.assigned} players`).join(', ')} → ${status.rollout.status === 'active' ? status.decision.action : status.rollout.status}`,
    );
  }
  const alert =
    readOutbox(stack.endpoints.outboxDir)
      .slice(alertsBefore)
      .find((m) => m.subject.includes(rolloutId))?.subject ?? null;
  if (status.rollout.ended) info(`▶ rollout ${status.rollout.status}: ${status.rollout.ended.reason}`);
  if (alert) info(`  alert: ${alert}`);
  return {
    control,
    canary: next.version,
    rolloutId,
    status: status.rollout.status,
    ended: status.rollout.ended ?? null,
    batches,
    alert,
  };
}
