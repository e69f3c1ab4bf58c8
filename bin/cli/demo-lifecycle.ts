import type { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import type { GateOutcome, Metrics } from '../../lambdas/contracts/pipeline.js';
import { datasetKey } from '../../lambdas/contracts/s3-layout.js';
import type { StartedExecution } from '../../lambdas/services/pipeline/start.js';
import { SYNTHETIC_DATASETS } from '../../local/data/synthetic.js';
import type { startLocalStack } from '../../local/runtime.js';
import type { loadRunnableConfig } from '../../local/trainers/config-trainers.js';
import type { ControlClient } from './control-client.js';
import { type ApprovalVisit, approvalLinkIn, approveThroughLink, readOutbox } from './demo-approver.js';
import { watchExecution } from './execution-watch.js';

/** The seeded dataset the demo uploads for each model of the sample config. */
export const DEMO_DATASETS: Readonly<Record<string, (rows: number, seed: number) => string>> =
  Object.fromEntries(SYNTHETIC_DATASETS.map((d) => [d.model, d.csv]));

export interface LifecycleContext {
  readonly stack: Awaited<ReturnType<typeof startLocalStack>>;
  readonly objects: S3Objects;
  readonly sfn: import('@aws-sdk/client-sfn').SFNClient;
  readonly control: ControlClient;
  readonly config: ReturnType<typeof loadRunnableConfig>;
  readonly seed: number;
  readonly info: (line: string) => void;
  readonly timings: Record<string, number>;
}

/** One model through the lifecycle: dataset upload, run, approval through the emailed link. */
export async function trainAndDeploy(ctx: LifecycleContext, model: string, rows: number) {
  const { stack, objects, control, config, info } = ctx;
  const { bucket, outboxDir } = stack.endpoints;
  const generate = DEMO_DATASETS[model];
  if (!generate)
    throw new Error(
      `the demo has no dataset generator for model "${model}" (it has: ${Object.keys(DEMO_DATASETS).join(', ')})`,
    );
  const stage = config.models[model]?.schedule.stage ?? 'staging';
  const uploadKey = datasetKey(model, `${model}-seed${ctx.seed}.csv`);
  await objects.put({ bucket, key: uploadKey }, generate(rows, ctx.seed), 'text/csv');
  info(
    `▶ ${model}: ${rows} seeded rows → s3://${bucket}/${uploadKey} (trainer ${config.models[model]?.training.image})`,
  );
  const before = readOutbox(outboxDir).length;
  const { executionArn: execution } = await control.request<StartedExecution>('POST', '/runs', {
    model,
    stage,
    reason: 'demo: weekly retrain on fresh player data',
  });
  info(`▶ lifecycle started: ${execution.split(':').pop()}`);
  const { final, approvals } = await followWithApprovals(ctx, model, stage, execution, before);
  const output = final.output ? (JSON.parse(final.output) as Record<string, unknown>) : {};
  const version = (output.registration as { version?: string } | undefined)?.version ?? null;
  const evaluation = output.evaluation as
    | { metrics?: Metrics; reportedMetrics?: Record<string, number> }
    | undefined;
  const gates = (output.gate as GateOutcome | undefined) ?? null;
  info(
    `▶ lifecycle ${final.status}${final.error ? ` (${final.error})` : ''}: ${model} ${version ?? '?'} → ${stage}`,
  );
  return { execution, final, version, evaluation, gates, approvals };
}

/**
 * Watches a lifecycle execution to its end, printing each state, and at Approve acts as the
 * stage's approvers: follows the emailed links (sent after `before` outbox messages) over HTTP
 * and approves, as many as the stage's quorum asks.
 */
export async function followWithApprovals(
  ctx: LifecycleContext,
  model: string,
  stage: string,
  execution: string,
  before: number,
  opts: { readonly skip?: (state: string) => boolean } = {},
) {
  const { stack, sfn, config, info, timings } = ctx;
  const { outboxDir } = stack.endpoints;
  const policy = config.environments[stage] ?? { quorum: 0, approvers: [] };
  const approvals: ApprovalVisit[] = [];
  const final = await watchExecution(sfn, execution, {
    onState: async (s, phase) => {
      // A sweep's trials run side by side: their states are said by the sweep's table instead.
      if (s.type === 'Choice' || s.type === 'Pass' || opts.skip?.(s.name)) return;
      if (phase === 'exited') {
        timings[s.name] = s.durationMs ?? 0;
        info(`  ✓ ${s.name.padEnd(14)} ${((s.durationMs ?? 0) / 1000).toFixed(2)} s`);
        return;
      }
      if (s.type === 'Fail') info(`  ✗ ${s.name}`);
      if (s.name !== 'Approve') return;
      const quorum = policy.quorum;
      info(
        `  … Approve: ${quorum} of ${policy.approvers.length} approvals needed; acting as the approver(s) via the emailed link`,
      );
      const deadline = Date.now() + 30_000;
      const approvalEmails = () =>
        readOutbox(outboxDir)
          .slice(before)
          .filter((m) => m.subject.toLowerCase().includes('approv'));
      let emails = approvalEmails();
      while (emails.length < quorum && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        emails = approvalEmails();
      }
      for (const email of emails.slice(0, quorum)) {
        const link = approvalLinkIn(email.text);
        if (!link) throw new Error(`no approval link in ${email.file}`);
        const visit = await approveThroughLink(link, 'approve', 'Metrics clear the staging gates. Ship it.', [
          model,
        ]);
        approvals.push(visit);
        info(
          `    ${email.to}: GET ${visit.pageStatus}, POST ${visit.postStatus} — "${visit.confirmation.slice(0, 70)}"`,
        );
      }
    },
  });
  return { final, approvals };
}
