import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readOutbox } from '../../bin/cli/demo-approver.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { churnCsv } from '../../local/data/churn.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';
import { attachTrainers } from '../../local/trainers/config-trainers.js';
import { errorLines, ROOT, runCli } from '../support/cli.js';
import { startAs } from '../support/local-stack.js';

/**
 * `mlcycle runs cancel` as a user runs it (a child process) against a running local stack: a run
 * whose trainer works for a minute is cancelled mid-training by its requester; someone else is
 * refused first; the execution ends ABORTED with the cancellation as its cause, the trainer
 * process is gone, and `runs show` says cancelled, by whom and why.
 */
const REQUESTER = 'requester@studio.test';
const raw = {
  project: 'mlcycle',
  models: {
    slow: {
      target: 'churned',
      exclude: ['player_id'],
      // Trains for a minute unless stopped.
      training: {
        image: 'test/fixtures/trainers/resumable',
        hyperparameters: { epochs: 120, epoch_seconds: 0.5 },
        resources: { gpus: 0 },
      },
      evaluation: { splitKey: 'player_id', seed: 5 },
      schedule: { stage: 'staging' },
    },
  },
  environments: {
    staging: { approvers: ['lead@studio.test'], quorum: 1, gates: [] },
  },
};

/** Processes of this user whose environment names the run (the trainer and its children). */
function processesOf(runId: string): number[] {
  const needle = `MLCYCLE_RUN_ID=${runId}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) pids.push(Number(entry));
    } catch {
      // Another user's process, or one that just ended.
    }
  }
  return pids;
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('mlcycle runs cancel (CLI) against a running local stack', () => {
  let dir: string;
  let configFile: string;
  let stack: LocalStack;
  let registry: Registry;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcycle-cancel-'));
    // Beside the state folder (a fresh stack empties it).
    configFile = `${dir}.config.yaml`;
    writeFileSync(configFile, stringify(raw));
    // As `mlcycle up` deploys it: with the trainer's declared hyperparameters (a sweep's are checked).
    stack = await startLocalStack({
      config: attachTrainers(parseConfig(raw), configFile, ROOT),
      dir,
      root: ROOT,
      fresh: true,
    });
    registry = new Registry(createDocumentClient(stack.dynamo.client), stack.endpoints.tableName);
    await new S3Objects(stack.s3.client).put(
      { bucket: stack.endpoints.bucket, key: 'datasets/slow/data.csv' },
      churnCsv({ rows: 800, seed: 21 }),
      'text/csv',
    );
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (configFile) rmSync(configFile, { force: true });
  });

  const cli = (user: string, ...args: string[]) => runCli(dir, args, { config: configFile, user });

  /** A sweep of three trials of `slow`, two at once, as REQUESTER: its id and its trial runs so far. */
  async function startSweep(reason: string, parameters: Record<string, unknown>) {
    const sweep = { parameters, strategy: 'grid', trials: 3, concurrency: 2, metric: 'auc' };
    const executionArn = await startAs(stack, REQUESTER, { model: 'slow', stage: 'staging', reason, sweep });
    const id = executionArn.split(':').pop() as string;
    const trials = async () => (await registry.runs.listRuns('slow', 100)).filter((r) => r.sweep?.id === id);
    return { executionArn, id, trials };
  }

  it('someone else is refused; the requester cancels mid-training: execution stopped with the reason, trainer gone, run shown cancelled', async () => {
    const executionArn = await startAs(stack, REQUESTER, { model: 'slow', stage: 'staging', reason: 'test' });
    const runId = await until(async () => (await registry.runs.listRuns('slow'))[0]?.runId, 'the run record');
    const trainer = await until(() => {
      const pids = processesOf(runId);
      return pids.length ? pids : undefined;
    }, 'the trainer process');

    const refused = await cli('mallory@studio.test', 'runs', 'cancel', runId, '--reason', 'mine now');
    expect(refused.code, refused.stderr).not.toBe(0);
    expect(errorLines(refused)).toEqual([
      expect.stringMatching(
        /mallory@studio\.test may not cancel run .* \(allowed: requester@studio\.test, lead@studio\.test/,
      ),
    ]);
    expect((await registry.runs.getRun('slow', runId))?.status).toBe('training');

    const cancelled = await cli(REQUESTER, 'runs', 'cancel', runId, '--reason', 'wrong dataset');
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(
      `slow run ${runId} cancelled (was training) by ${REQUESTER}: wrong dataset`,
    );

    const ended = await stack.engine.settled(executionArn);
    expect(ended.status).toBe('ABORTED');
    expect(ended.error).toBe('mlcycle.RunCancelled');
    expect(ended.cause).toBe(`run ${runId} cancelled by ${REQUESTER}: wrong dataset`);
    // The execution-ended handler terminated the job: no process of the run is left.
    await until(
      () => (trainer.every((pid) => !processesOf(runId).includes(pid)) ? true : undefined),
      'the trainer to end',
      30_000,
    );
    expect(processesOf(runId)).toEqual([]);

    // The alert of the stopped execution says why, and that its job was terminated.
    const alert = readOutbox(stack.endpoints.outboxDir).find((m) => m.text.includes(executionArn));
    expect(alert?.text).toContain(`run ${runId} cancelled by ${REQUESTER}: wrong dataset`);
    expect(alert?.text).toMatch(/Batch jobs it left running were terminated: local-/);
    expect(alert?.text).not.toMatch(/was marked failed/);

    const shown = await cli(REQUESTER, 'runs', 'show', runId);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`slow run ${runId}  cancelled`);
    expect(shown.stdout).toMatch(new RegExp(`cancelled by ${REQUESTER} at \\S+: wrong dataset`));
    const json = JSON.parse((await cli(REQUESTER, 'runs', 'show', runId, '--json')).stdout) as {
      status: string;
      cancelled: { by: string; reason: string };
      failure: string | null;
    };
    expect(json).toMatchObject({
      status: 'cancelled',
      cancelled: { by: REQUESTER, reason: 'wrong dataset' },
      failure: null,
    });

    const again = await cli('lead@studio.test', 'runs', 'cancel', runId, '--reason', 'again');
    expect(again.code).not.toBe(0);
    expect(errorLines(again)).toEqual([
      expect.stringMatching(
        `has already ended: it is cancelled \\(by ${REQUESTER}: wrong dataset\\); nothing to cancel`,
      ),
    ]);
    const listed = await cli(REQUESTER, 'runs', 'list', '--status', 'cancelled', '--json');
    expect((JSON.parse(listed.stdout) as { runId: string }[]).map((r) => r.runId)).toEqual([runId]);
  }, 240_000);

  it('sweep stop: someone else is refused; the requester stops a sweep mid-training: trials cancelled, the next never starts, trainers gone', async () => {
    const { executionArn, id, trials } = await startSweep('sweep to stop', { loss: { grid: [1, 2, 3] } });
    const training = await until(async () => {
      const ids = (await trials()).map((r) => r.runId);
      return ids.length === 2 && ids.every((r) => processesOf(r).length) ? ids : undefined;
    }, 'two trials training');

    const refused = await cli('mallory@studio.test', 'sweep', 'stop', id, '--reason', 'mine now');
    expect(refused.code, refused.stderr).not.toBe(0);
    expect(errorLines(refused)).toEqual([
      expect.stringMatching(
        /mallory@studio\.test may not stop sweep \S+ \(allowed: requester@studio\.test, lead@studio\.test/,
      ),
    ]);

    const stopped = await cli(REQUESTER, 'sweep', 'stop', id, '--reason', 'wrong grid');
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`sweep ${id} of slow stopped by ${REQUESTER}: wrong grid`);
    expect(stopped.stdout).toContain('trials cancelled: 0 (was training), 1 (was training)');
    const ended = await stack.engine.settled(executionArn);
    expect(ended).toMatchObject({
      status: 'ABORTED',
      error: 'mlcycle.SweepStopped',
      cause: `sweep ${id} stopped by ${REQUESTER}: wrong grid`,
    });
    // The execution-ended handler terminated both trials' jobs; the third trial never started.
    await until(
      () => (training.every((r) => processesOf(r).length === 0) ? true : undefined),
      'the trainers to end',
      30_000,
    );
    const runs = await trials();
    expect(runs.map((r) => r.sweep?.trial).sort()).toEqual([0, 1]);
    for (const r of runs) {
      expect(r.status).toBe('cancelled');
      expect(r.cancelled).toMatchObject({ by: REQUESTER, reason: 'wrong grid' });
    }
    const status = JSON.parse((await cli(REQUESTER, 'sweep', 'status', id, '--json')).stdout) as {
      trials: { status: string; reason: string }[];
    };
    expect(status.trials.map((t) => [t.status, t.reason])).toEqual([
      ['cancelled', `cancelled by ${REQUESTER}: wrong grid`],
      ['cancelled', `cancelled by ${REQUESTER}: wrong grid`],
    ]);
    const again = await cli('lead@studio.test', 'sweep', 'stop', id, '--reason', 'again');
    expect(again.code).not.toBe(0);
    expect(errorLines(again)).toEqual([
      expect.stringMatching(`sweep ${id} has already ended: ABORTED; nothing to stop`),
    ]);
  }, 240_000);

  it('runs cancel of a sweep trial: that trial alone is cancelled, its trainer gone; the sweep goes on and chooses among the others', async () => {
    // Trial 0 would train for a minute; trials 1 and 2 for 2 and 2.5 s.
    const { executionArn, id, trials } = await startSweep('sweep with a long trial', {
      epochs: { grid: [120, 4, 5] },
    });
    const long = await until(async () => {
      const first = (await trials()).find((r) => r.sweep?.trial === 0);
      return first && processesOf(first.runId).length ? first.runId : undefined;
    }, 'trial 0 training');

    const cancelled = await cli(REQUESTER, 'runs', 'cancel', long, '--reason', 'too many epochs');
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(
      `slow run ${long} cancelled (was training) by ${REQUESTER}: too many epochs`,
    );
    expect(cancelled.stdout).toContain(
      `trial 0 of sweep ${id}: its jobs are terminated (1), the sweep goes on without it`,
    );
    await until(() => (processesOf(long).length === 0 ? true : undefined), 'trial 0 to end', 30_000);

    // The others train and are evaluated; the best of them is registered and waits for approval.
    const chosen = await until(
      async () => (await trials()).find((r) => r.status === 'registered'),
      'the chosen trial',
      120_000,
    );
    expect([1, 2]).toContain(chosen.sweep?.trial);
    const status = JSON.parse((await cli(REQUESTER, 'sweep', 'status', id, '--json')).stdout) as {
      trials: { trial: number; status: string; reason: string }[];
      best: { trial: number } | null;
    };
    expect(status.trials[0]).toMatchObject({
      trial: 0,
      status: 'cancelled',
      reason: `cancelled by ${REQUESTER}: too many epochs`,
    });
    expect(status.best?.trial).toBe(chosen.sweep?.trial);
    expect((await stack.engine.describe(executionArn)).status).toBe('RUNNING');

    // Stopping the sweep now cancels the chosen trial's run, waiting for its approval.
    const stopped = await cli(REQUESTER, 'sweep', 'stop', id, '--reason', 'enough');
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`trials cancelled: ${chosen.sweep?.trial} (was registered)`);
    expect((await stack.engine.settled(executionArn)).status).toBe('ABORTED');
  }, 240_000);
});
