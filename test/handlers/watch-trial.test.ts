import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EARLY_STOP_REASON_PREFIX } from '../../lambdas/contracts/batch-jobs.js';
import type { SweepRules } from '../../lambdas/contracts/sweep.js';
import type { RunRecord } from '../../lambdas/domain/registry/types.js';
import { makeWatchTrialHandler } from '../../lambdas/handlers/watch-trial.js';
import { s3Event } from '../support/s3-event.js';
import { type HandlerWorld, handlerWorld, MODEL, pipelineState, putRun, runInfo } from './fixtures.js';

const SWEEP = 'churn-staging-sweep-watch';
const asha: SweepRules['earlyStopping'] = {
  rule: 'asha',
  minEpochs: 2,
  reductionFactor: 3,
  metric: 'trainLoss',
  direction: 'min',
};

type Result = { key: string; outcome: string; reason: string; epochs?: number; jobs?: string[] };

/**
 * The trial watcher on an S3 event of runs/<model>/<runId>/progress/metrics.jsonl, against
 * DynamoDB Local and s3rver, with a job control that records what it was told to terminate.
 */
describe('watch-trial handler (a sweep trial early-stopped while it trains)', () => {
  let w: HandlerWorld;
  const terminated: { names: readonly string[]; reason: string }[] = [];
  let handler: (event: S3Event) => Promise<Result[]>;

  beforeAll(async () => {
    w = await handlerWorld('watchTrial');
    handler = makeWatchTrialHandler(() => ({
      bucket: w.bucket,
      objects: w.objects,
      registry: w.registry,
      jobs: {
        stopJobs: async (names, reason) => {
          terminated.push({ names, reason });
          return names.map((n) => `job-of-${n}`);
        },
      },
    })) as unknown as typeof handler;
  });
  afterAll(async () => {
    await w?.stop();
  });

  let next = 0;
  /** A trial's run (recorded by PrepareRun with the rule) and the progress its job copied. */
  async function trial(
    losses: number[],
    opts: { status?: RunRecord['status']; rule?: SweepRules['earlyStopping'] | null; sweep?: string } = {},
  ) {
    const index = next++;
    const runId = `20300202T00000${index}Z-0000${index.toString().padStart(2, '0')}`;
    const state = pipelineState();
    await putRun(w, runInfo(w.bucket, runId, state), state);
    await w.registry.runs.updateRun(MODEL, runId, {
      status: opts.status ?? 'training',
      startedAt: new Date(Date.now() - 30_000).toISOString(),
      sweep: {
        id: opts.sweep ?? SWEEP,
        trial: index,
        ...(opts.rule === null ? {} : { earlyStopping: opts.rule ?? asha }),
      },
    });
    const key = `runs/${MODEL}/${runId}/progress/metrics.jsonl`;
    const body = losses.map((trainLoss, i) => `${JSON.stringify({ epoch: i + 1, trainLoss })}\n`).join('');
    await w.objects.put({ bucket: w.bucket, key }, body, 'application/x-ndjson');
    return { runId, key, event: s3Event(w.bucket, [{ key, size: body.length, eTag: `"${index}"` }]) };
  }

  it('lets a trial train on until it reaches a rung, and while it leads', async () => {
    const first = await trial([0.5]);
    expect((await handler(first.event))[0]).toMatchObject({ outcome: 'continues', epochs: 1 });
    await w.objects.put(
      { bucket: w.bucket, key: first.key },
      '{"epoch":1,"trainLoss":0.5}\n{"epoch":2,"trainLoss":0.25}\n{"epoch":3,"trainLoss":0.2}\n',
    );
    expect((await handler(first.event))[0]).toMatchObject({
      outcome: 'continues',
      reason: 'passed 1 ASHA rung(s), the last at epoch 2',
    });
    expect(terminated).toEqual([]);
    const run = await w.registry.runs.getRun(MODEL, first.runId);
    expect(run?.status).toBe('training');
    // The rung it passed is recorded: it is never judged there again.
    expect(run?.sweep?.judgedThrough).toBe(2);
  });

  it('stops a weak trial at its rung: recorded stopped with the epoch and reason first, then its job terminated', async () => {
    const weak = await trial([0.9, 0.8, 0.7]);
    const [result] = await handler(weak.event);
    const reason =
      'stopped while training, after epoch 3: ASHA rung 0 (epoch 2): trainLoss 0.8 is not in the top 1 of the 2 trials at that rung (threshold 0.25, min)';
    expect(result).toMatchObject({ outcome: 'stopped', epochs: 3, reason });
    const run = await w.registry.runs.getRun(MODEL, weak.runId);
    expect(run?.status).toBe('stopped');
    expect(run?.finishedAt).toBeDefined();
    expect(run?.sweep).toMatchObject({ stopped: reason, stoppedAtEpoch: 3, earlyStopping: asha });
    expect(run?.sweep?.trainingSeconds).toBeGreaterThanOrEqual(30);
    expect(terminated.at(-1)).toEqual({
      names: [`mlcycle-${MODEL}-${weak.runId}`],
      reason: `${EARLY_STOP_REASON_PREFIX}${reason}`,
    });

    // A redelivered event (or a job that outlived the first TerminateJob): terminated again,
    // with the recorded reason, and the record as it was.
    const count = terminated.length;
    const before = await w.scan();
    expect((await handler(weak.event))[0]).toMatchObject({ outcome: 'stopped', reason });
    expect(terminated).toHaveLength(count + 1);
    expect(await w.scan()).toBe(before);
  });

  it('a rung passed stays passed: a better trial reaching it later does not stop the one that passed', async () => {
    const better = await trial([0.05, 0.01, 0.01]);
    expect((await handler(better.event))[0]).toMatchObject({ outcome: 'continues' });
    const [first] = await w.registry.runs
      .listRuns(MODEL, 1000)
      .then((runs) => runs.filter((r) => r.sweep?.trial === 0));
    const key = `runs/${MODEL}/${first?.runId}/progress/metrics.jsonl`;
    await w.objects.put(
      { bucket: w.bucket, key },
      '{"epoch":1,"trainLoss":0.5}\n{"epoch":2,"trainLoss":0.25}\n{"epoch":3,"trainLoss":0.2}\n{"epoch":4,"trainLoss":0.19}\n',
    );
    expect((await handler(s3Event(w.bucket, [{ key, size: 1, eTag: '"again"' }])))[0]).toMatchObject({
      outcome: 'continues',
      epochs: 4,
    });
  });

  it('leaves alone what is not a training trial with early stopping, writing and terminating nothing', async () => {
    const cases = [
      await trial([5, 5, 5], { rule: null }),
      await trial([5, 5, 5], { rule: { ...asha, rule: 'none' } }),
      await trial([5, 5, 5], { status: 'evaluating' }),
    ];
    const before = await w.scan();
    const count = terminated.length;
    for (const c of cases) expect((await handler(c.event))[0]?.outcome).toBe('ignored');
    // Another sweep's trial is held only against its own sweep: alone there, it goes on.
    const lone = await trial([5, 5, 5], { sweep: 'another-sweep' });
    expect((await handler(lone.event))[0]?.outcome).toBe('continues');
    // A key that is not a run's progress, and a run nobody recorded.
    const stray = s3Event(w.bucket, [
      { key: `runs/${MODEL}/20300202T000099Z-000099/progress/metrics.jsonl`, size: 1, eTag: '"x"' },
      { key: `runs/${MODEL}/x/output/metrics.jsonl`, size: 1, eTag: '"y"' },
    ]);
    expect((await handler(stray)).map((r) => r.outcome)).toEqual(['ignored', 'ignored']);
    expect(terminated).toHaveLength(count);
    expect(await w.scan()).not.toBe(before); // the lone trial was recorded, nothing else
  });

  it('does not stop a trial whose training ended meanwhile (CheckTrial decides it)', async () => {
    const late = await trial([3, 3, 3]);
    // CheckTrial recorded it between the event and the watcher's write.
    const registry = w.registry;
    const racing = makeWatchTrialHandler(() => ({
      bucket: w.bucket,
      objects: w.objects,
      registry: {
        runs: Object.assign(Object.create(registry.runs), {
          stopTrialIfTraining: async (...args: Parameters<typeof registry.runs.stopTrialIfTraining>) => {
            await registry.runs.updateRun(MODEL, late.runId, { status: 'evaluating' });
            return registry.runs.stopTrialIfTraining(...args);
          },
        }),
      },
      jobs: { stopJobs: async () => ['unexpected'] },
    })) as unknown as typeof handler;
    expect((await racing(late.event))[0]).toMatchObject({ outcome: 'ignored' });
    expect((await w.registry.runs.getRun(MODEL, late.runId))?.status).toBe('evaluating');
  });
});
