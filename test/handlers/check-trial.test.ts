import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepRules, TrialRef } from '../../lambdas/contracts/sweep.js';
import type { TrialRun } from '../../lambdas/domain/sweeps/trial-row.js';
import { sweepCurves } from '../../lambdas/services/sweeps/check-trial.js';
import {
  type HandlerWorld,
  handlerWorld,
  MODEL,
  pipelineState,
  putRun,
  putTrialRun,
  runInfo,
} from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;

const SWEEP = 'churn-staging-sweep-test';
const rules: SweepRules = {
  id: SWEEP,
  metric: 'auc',
  direction: 'max',
  earlyStopping: { rule: 'asha', minEpochs: 1, reductionFactor: 3, metric: 'trainLoss', direction: 'min' },
};

describe('check-trial handler (CheckTrial state, DynamoDB Local + s3rver)', () => {
  let w: HandlerWorld;
  let handler: Handler;

  beforeAll(async () => {
    w = await handlerWorld('checkTrial');
    ({ handler } = (await import('../../lambdas/handlers/check-trial.js')) as { handler: Handler });
  });
  afterAll(async () => {
    await w?.stop();
  });

  /** A trained trial: its run record (status as given) and its metrics.jsonl of trainLoss values. */
  async function trained(
    index: number,
    losses: number[],
    status: 'training' | 'evaluating' = 'training',
    file = 'output/metrics.jsonl',
  ) {
    const runId = `20300101T00000${index}Z-00000${index}`;
    const trial: TrialRef = {
      index,
      overrides: { learningRate: index },
      hyperparameters: { learningRate: index },
      rules,
    };
    const state = pipelineState({ trial });
    const run = runInfo(w.bucket, runId, state);
    await putRun(w, run, state);
    // Started a minute ago, so its training took about that long.
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    await w.registry.runs.updateRun(MODEL, runId, { status, startedAt, sweep: { id: SWEEP, trial: index } });
    await w.objects.put(
      { bucket: w.bucket, key: `runs/${MODEL}/${runId}/${file}` },
      losses.map((trainLoss, i) => `${JSON.stringify({ epoch: i + 1, trainLoss })}\n`).join(''),
      'application/x-ndjson',
    );
    return { ...state, run: { ...run, runUri: run.outputUri } };
  }

  it('the first trial goes on and is recorded evaluating with its training time', async () => {
    const state = await trained(0, [0.5, 0.4, 0.3]);
    expect(await handler(state)).toEqual({
      stop: false,
      reason: 'passed 2 ASHA rung(s), the last at epoch 3',
    });
    const run = await w.registry.runs.getRun(MODEL, state.run.runId);
    expect(run?.status).toBe('evaluating');
    expect(run?.sweep).toMatchObject({ id: SWEEP, trial: 0 });
    expect(run?.sweep?.trainingSeconds).toBeGreaterThanOrEqual(60);
    expect(run?.sweep?.trainingSeconds).toBeLessThan(120);
  });

  it('a weak trial is stopped against the trials trained so far, recorded stopped with the rung, value and threshold', async () => {
    await trained(1, [0.6, 0.5, 0.45], 'evaluating');
    await trained(2, [0.7, 0.6, 0.5], 'evaluating');
    const state = await trained(3, [0.8, 0.7, 0.6]);
    const reason =
      'ASHA rung 0 (epoch 1): trainLoss 0.8 is not in the top 1 of the 4 trials at that rung (threshold 0.5, min)';
    expect(await handler(state)).toEqual({ stop: true, reason });
    const run = await w.registry.runs.getRun(MODEL, state.run.runId);
    expect(run?.status).toBe('stopped');
    expect(run?.sweep?.stopped).toBe(reason);
    expect(run?.finishedAt).toBeDefined();
  });

  it('ignores trials of other sweeps, and holds a trial against those still training as far as their progress goes', async () => {
    const other = await trained(4, [0.1, 0.1, 0.1]);
    await w.registry.runs.updateRun(MODEL, other.run.runId, { sweep: { id: 'another-sweep', trial: 4 } });
    // Trial 5 still trains: one epoch copied to its progress so far.
    await trained(5, [0.4], 'training', 'progress/metrics.jsonl');
    const state = await trained(6, [0.55, 0.35, 0.25]);
    // At epoch 1: trials 0–3, 5 and itself, not 4 (another sweep's): the top 2 of 6 go on.
    expect(await handler(state)).toEqual({
      stop: true,
      reason:
        'ASHA rung 0 (epoch 1): trainLoss 0.55 is not in the top 2 of the 6 trials at that rung (threshold 0.5, min)',
    });
  });

  it('keeps the reason of a trial the watcher stopped while it trained, and refuses a STOPPED job whose run says otherwise', async () => {
    const watched = await trained(8, [0.9, 0.8]);
    const reason = 'stopped while training, after epoch 2: ASHA rung 0 (epoch 1): …';
    await w.registry.runs.updateRun(MODEL, watched.run.runId, {
      status: 'stopped',
      sweep: { id: SWEEP, trial: 8, stopped: reason, stoppedAtEpoch: 2 },
    });
    const train = {
      jobId: 'j-8',
      jobName: 'mlcycle-churn-x',
      status: 'STOPPED' as const,
      logs: '/logs/8.log',
    };
    expect(await handler({ ...watched, train })).toEqual({ stop: true, reason });
    const run = await w.registry.runs.getRun(MODEL, watched.run.runId);
    expect(run).toMatchObject({
      status: 'stopped',
      logs: '/logs/8.log',
      sweep: { stopped: reason, stoppedAtEpoch: 2 },
    });

    // A job terminated with the watcher's reason by someone else: the run still trains.
    const forged = await trained(9, [0.01]);
    const before = await w.scan();
    await expect(handler({ ...forged, train: { ...train, jobId: 'j-9' } })).rejects.toThrow(
      /was terminated as stopped early, but the run is recorded training, not stopped/,
    );
    expect(await w.scan()).toBe(before);
  });

  it('a trial cancelled as its job ended goes no further and stays cancelled, writing nothing', async () => {
    const sweepPeer = await trained(10, [0.01]);
    const cancelled = { by: 'lead@studio.test', at: '2030-01-01T00:05:00.000Z', reason: 'wrong l2' };
    await w.registry.runs.cancelRunIfActive(MODEL, sweepPeer.run.runId, cancelled);
    const before = await w.scan();
    expect(await handler(sweepPeer)).toEqual({
      stop: true,
      reason: 'cancelled by lead@studio.test: wrong l2',
    });
    expect(await w.scan()).toBe(before);
  });

  it('a cancelled peer is no contender: no rung or median is judged against it', async () => {
    const sweepId = `${SWEEP}-with-cancelled`;
    const put = async (trial: number, runId: string) => {
      await putTrialRun(w, { sweepId, trial, runId, status: 'training' });
      await w.objects.put(
        { bucket: w.bucket, key: `runs/${MODEL}/${runId}/output/metrics.jsonl` },
        `${JSON.stringify({ epoch: 1, trainLoss: 0.1 * (trial + 1) })}\n`,
        'application/x-ndjson',
      );
      return (await w.registry.runs.getRun(MODEL, runId)) as TrialRun;
    };
    const [mine, kept] = [await put(0, '20300102T000000Z-c0'), await put(1, '20300102T000001Z-c1')];
    await put(2, '20300102T000002Z-c2');
    await w.registry.runs.cancelRunIfActive(MODEL, '20300102T000002Z-c2', {
      by: 'a@studio.test',
      at: 'now',
      reason: 'x',
    });
    const deps = { bucket: w.bucket, objects: w.objects, registry: w.registry };
    const { trial, others } = await sweepCurves(deps, mine, rules.earlyStopping);
    expect(trial.values).toEqual([0.1]);
    expect(others.map((o) => o.index)).toEqual([kept.sweep.trial]);
  });

  it('refuses a state without its trial (a bad ASL), writing nothing', async () => {
    const before = await w.scan();
    const { trial: _trial, ...state } = await trained(7, [0.1]);
    const after = await w.scan();
    await expect(handler(state)).rejects.toMatchObject({ name: 'ValidationError' });
    expect(await w.scan()).toBe(after);
    expect(after).not.toBe(before);
  });
});
