import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunInfo } from '../../lambdas/contracts/pipeline.js';
import type { SweepPlan } from '../../lambdas/contracts/sweep.js';
import {
  type HandlerWorld,
  handlerWorld,
  METRICS,
  MODEL,
  pipelineState,
  putRun,
  runInfo,
  trainResult,
} from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;
const SWEEP = 'churn-staging-sweep-pick';

const plan: SweepPlan = {
  rules: {
    id: SWEEP,
    metric: 'auc',
    direction: 'max',
    earlyStopping: { rule: 'none', minEpochs: 1, reductionFactor: 3, metric: '', direction: 'max' },
  },
  concurrency: 2,
  trials: [0, 1, 2, 3].map((index) => ({
    index,
    overrides: { learningRate: 0.01 * (index + 1) },
    hyperparameters: { learningRate: 0.01 * (index + 1), epochs: 6 },
  })),
};

/** A trial's Map iteration that ended evaluated, with the measured auc. */
function evaluatedTrial(runs: readonly (RunInfo | undefined)[], i: number, auc: number) {
  const run = runs[i];
  return {
    index: i,
    status: 'evaluated',
    run,
    train: trainResult(run?.runId ?? ''),
    evaluation: {
      metrics: { ...METRICS, auc },
      reportedMetrics: {},
      holdoutRows: 400,
      artifact: { uri: `${run?.outputUri}output/model.tar.gz`, sha256: 'a'.repeat(64) },
      modelCardUri: `${run?.outputUri}output/model-card.json`,
      evaluationUri: `${run?.outputUri}evaluation/evaluation.json`,
    },
  };
}

describe('pick-best handler (PickBest state, DynamoDB Local)', () => {
  let w: HandlerWorld;
  let handler: Handler;

  beforeAll(async () => {
    w = await handlerWorld('pickBest');
    ({ handler } = (await import('../../lambdas/handlers/pick-best.js')) as { handler: Handler });
  });
  afterAll(async () => {
    await w?.stop();
  });

  async function trialRun(sweep: string, index: number, status: 'evaluating' | 'stopped') {
    const runId = `2030010${index}T000000Z-${sweep.length}0000${index}`;
    const run = runInfo(w.bucket, runId);
    await putRun(w, run);
    await w.registry.runs.updateRun(MODEL, runId, { status, sweep: { id: sweep, trial: index } });
    return run;
  }

  it('chooses the best evaluated trial by the measured metric, ties to the lower index, and goes on with its run', async () => {
    const runs = await Promise.all(
      [0, 1, 2, 3].map((i) => trialRun(SWEEP, i, i === 1 ? 'stopped' : 'evaluating')),
    );
    const evaluated = (i: number, auc: number) => evaluatedTrial(runs, i, auc);
    const state = {
      ...pipelineState(),
      sweep: plan,
      trials: [
        evaluated(0, 0.7),
        { index: 1, status: 'stopped', reason: 'ASHA rung 0 (epoch 1): …' },
        evaluated(2, 0.8),
        evaluated(3, 0.8),
      ],
    };
    const out = (await handler(state)) as Record<string, unknown> & {
      run: { runId: string };
      sweepResult: { best: number; trials: { index: number; status: string; value: number | null }[] };
    };
    expect(out.run.runId).toBe(runs[2]?.runId);
    expect(out).not.toHaveProperty('trials');
    expect(out.sweepResult.best).toBe(2);
    expect(out.sweepResult.trials.map((t) => [t.index, t.status, t.value])).toEqual([
      [0, 'evaluated', 0.7],
      [1, 'stopped', null],
      [2, 'evaluated', 0.8],
      [3, 'evaluated', 0.8],
    ]);
    const record = async (i: number) => w.registry.runs.getRun(MODEL, runs[i]?.runId ?? '');
    expect((await record(2))?.sweep?.best).toBe(true);
    expect((await record(2))?.status).toBe('evaluating'); // Register marks it registered
    expect((await record(3))?.status).toBe('evaluated');
    expect((await record(3))?.metrics?.auc).toBe(0.8);
    expect((await record(1))?.status).toBe('stopped');
  });

  it('no trial evaluated: SweepFailed naming each trial, failed trials recorded failed', async () => {
    const other = { ...plan, rules: { ...plan.rules, id: `${SWEEP}-2` } };
    const runs = await Promise.all([0, 1].map((i) => trialRun(other.rules.id, i, 'evaluating')));
    const state = {
      ...pipelineState(),
      sweep: other,
      trials: [
        {
          index: 0,
          status: 'failed',
          error: { Error: 'States.TaskFailed', Cause: 'the trainer exited with 1' },
        },
        { index: 1, status: 'stopped', reason: 'median rule at epoch 2: …' },
        { index: 2, status: 'failed', error: { Error: 'DataError', Cause: 'no target column' } },
      ],
    };
    await expect(handler(state)).rejects.toMatchObject({
      name: 'SweepFailed',
      message: expect.stringMatching(
        /^no trial of sweep churn-staging-sweep-pick-2 was evaluated, so nothing is registered: trial 0 failed \(.*\); trial 1 stopped \(median rule at epoch 2: …\); trial 2 failed/,
      ),
    });
    const first = await w.registry.runs.getRun(MODEL, runs[0]?.runId ?? '');
    expect(first?.status).toBe('failed');
    expect(first?.failure?.kind).toBe('trial');
  });

  it('a trial whose task failed but whose run the early-stopping watcher recorded stopped is shown stopped, and stays so', async () => {
    const sweep = { ...plan, rules: { ...plan.rules, id: `${SWEEP}-third` } };
    const runs = await Promise.all([0, 1].map((i) => trialRun(sweep.rules.id, i, 'evaluating')));
    const reason = 'stopped while training, after epoch 3: ASHA rung 0 (epoch 2): …';
    await w.registry.runs.updateRun(MODEL, runs[1]?.runId ?? '', {
      status: 'stopped',
      sweep: { id: sweep.rules.id, trial: 1, stopped: reason, stoppedAtEpoch: 3 },
    });
    const state = {
      ...pipelineState(),
      sweep,
      trials: [
        {
          index: 0,
          status: 'failed',
          error: { Error: 'Batch.JobFailed', Cause: 'the trainer exited with 1' },
        },
        // Its terminated job reached the task as a failure (Batch said it without the watcher's reason).
        { index: 1, status: 'failed', error: { Error: 'Batch.JobFailed', Cause: 'Job terminated' } },
      ],
    };
    await expect(handler(state)).rejects.toMatchObject({
      message: expect.stringContaining(`trial 1 stopped (${reason})`),
    });
    const stopped = await w.registry.runs.getRun(MODEL, runs[1]?.runId ?? '');
    expect(stopped).toMatchObject({ status: 'stopped', sweep: { stopped: reason } });
    expect(stopped?.failure).toBeUndefined();
  });

  it('a trial cancelled by a person is never chosen, even evaluated with the best metric; its row says who and why', async () => {
    const sweep = { ...plan, rules: { ...plan.rules, id: `${SWEEP}-cancel` } };
    const runs = await Promise.all([0, 1, 2].map((i) => trialRun(sweep.rules.id, i, 'evaluating')));
    const cancelled = { by: 'lead@studio.test', at: '2030-01-01T00:05:00.000Z', reason: 'wrong l2' };
    for (const i of [0, 2]) await w.registry.runs.cancelRunIfActive(MODEL, runs[i]?.runId ?? '', cancelled);
    const evaluated = (i: number, auc: number) => evaluatedTrial(runs, i, auc);
    const state = {
      ...pipelineState(),
      sweep,
      trials: [
        // Cancelled as its evaluation finished: the iteration ended evaluated all the same.
        evaluated(0, 0.95),
        evaluated(1, 0.7),
        // Its job terminated by the cancellation: the task failed.
        {
          index: 2,
          status: 'failed',
          error: { Error: 'Batch.JobFailed', Cause: 'mlcycle: run … cancelled' },
        },
      ],
    };
    const out = (await handler(state)) as {
      run: { runId: string };
      sweepResult: { best: number; trials: { index: number; status: string; reason: string }[] };
    };
    expect(out.run.runId).toBe(runs[1]?.runId);
    expect(out.sweepResult.trials.map((t) => [t.index, t.status, t.reason])).toEqual([
      [0, 'cancelled', 'cancelled by lead@studio.test: wrong l2'],
      [1, 'evaluated', ''],
      [2, 'cancelled', 'cancelled by lead@studio.test: wrong l2'],
    ]);
    for (const i of [0, 2]) {
      const run = await w.registry.runs.getRun(MODEL, runs[i]?.runId ?? '');
      expect(run).toMatchObject({ status: 'cancelled', cancelled });
      expect(run?.sweep?.best).toBeUndefined();
      expect(run?.failure).toBeUndefined();
    }
  });
});
