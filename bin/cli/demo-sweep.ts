import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { StartStore } from '../../lambdas/adapters/pipeline/start-store.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { datasetKey } from '../../lambdas/contracts/s3-layout.js';
import type { StartedExecution } from '../../lambdas/services/pipeline/start.js';
import { sweepRuns } from '../../lambdas/services/sweeps/check-trial.js';
import { sweepStatus } from '../../lambdas/services/sweeps/sweep-status.js';
import { readOutbox } from './demo-approver.js';
import { DEMO_DATASETS, followWithApprovals, type LifecycleContext } from './demo-lifecycle.js';
import { formatSweepStatus, readSweepSpec } from './sweep.js';

/** The spec the demo sweeps with (the README's): the segments network, 6 trials, ASHA. */
export const DEMO_SWEEP_SPEC = 'examples/sweep-segments.yaml';
/** Rows of the table it sweeps on: enough epochs of work that weak trials stop mid-way. */
const SWEEP_ROWS = 20_000;

/** What the demo's sweep did: its trials, how many stopped (and of them while training), the best. */
export interface DemoSweep {
  readonly id: string;
  readonly model: string;
  readonly status: string;
  readonly trials: number;
  readonly stopped: number;
  /** Stopped while they trained: their jobs terminated before the last epoch. */
  readonly stoppedWhileTraining: number;
  readonly best: {
    readonly trial: number;
    readonly value: number | null;
    readonly version: string | null;
  } | null;
  readonly metric: string;
}

/**
 * A hyperparameter sweep as a studio would run one after the first release: the segments network
 * over learning rate and width, weak trials stopped by ASHA while they train (their Batch jobs
 * terminated), the best one through the same gates and emailed approval, deployed to staging.
 */
export async function demoSweep(ctx: LifecycleContext, model: string): Promise<DemoSweep> {
  const { info, objects, stack, control } = ctx;
  const { bucket, outboxDir, tableName } = stack.endpoints;
  const generate = DEMO_DATASETS[model];
  if (!generate) throw new Error(`the demo has no dataset generator for model "${model}"`);
  await objects.put(
    { bucket, key: datasetKey(model, `demo-sweep-seed${ctx.seed}.csv`) },
    generate(SWEEP_ROWS, ctx.seed),
    'text/csv',
  );
  const spec = readSweepSpec(DEMO_SWEEP_SPEC);
  info(
    `▶ sweep: ${model}, ${spec.trials} settings from ${DEMO_SWEEP_SPEC}, ${spec.concurrency} at once, ${spec.earlyStopping.rule} on ${spec.earlyStopping.metric}: weak trials are stopped while they train`,
  );
  const before = readOutbox(outboxDir).length;
  const started = await control.request<StartedExecution>('POST', '/runs', {
    model,
    stage: 'staging',
    reason: 'demo: sweep of learning rate and width',
    sweep: spec,
  });
  const { final } = await followWithApprovals(ctx, model, 'staging', started.executionArn, before, {
    skip: (state) => state.startsWith('Trial'),
  });
  const doc = createDocumentClient(stack.dynamo.client);
  const registry = new Registry(doc, tableName);
  const status = await sweepStatus(
    { registry, starts: new StartStore(doc, tableName) },
    started.executionName,
  );
  for (const line of formatSweepStatus(status).split('\n')) info(line ? `  ${line}` : '');
  const runs = await sweepRuns(registry, model, started.executionName);
  const stopped = runs.filter((r) => r.status === 'stopped');
  return {
    id: started.executionName,
    model,
    status: final.status ?? 'UNKNOWN',
    trials: runs.length,
    stopped: stopped.length,
    stoppedWhileTraining: stopped.filter((r) => r.sweep.stoppedAtEpoch !== undefined).length,
    best: status.best
      ? { trial: status.best.trial, value: status.best.value, version: status.best.version }
      : null,
    metric: status.metric,
  };
}
