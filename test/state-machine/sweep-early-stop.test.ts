import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveThroughLink, readOutbox } from '../../bin/cli/demo-approver.js';
import { createDocumentClient } from '../../lambdas/adapters/aws-clients.js';
import { Registry } from '../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { lifecycleJobName } from '../../lambdas/contracts/batch-jobs.js';
import { showRun } from '../../lambdas/services/registry/run-history.js';
import { churnCsv } from '../../local/data/churn.js';
import { attachTrainers } from '../../local/trainers/config-trainers.js';
import { startAs, startTestStack, type TestStack, testConfig } from '../support/local-stack.js';
import { nextApprovalLink } from '../support/outbox.js';

const EPOCHS = 40;
const EPOCH_SECONDS = 0.25;

/**
 * Early stopping while a trial trains, on the embedded default: a trainer that writes a line of
 * metrics.jsonl per epoch (the resumable fixture: trainLoss = loss / epoch), a sweep of a strong
 * and a weak setting one at a time. The weak trial's progress, copied as it trains, reaches the
 * trial watcher through the local S3 events; ASHA stops it at its first rung and its job is
 * terminated, long before its 40 epochs. The strong one is evaluated, registered and deployed.
 */
describe('a sweep trial stopped while it trains (local engine)', () => {
  let t: TestStack;
  let store: Registry;
  const REQUESTOR = 'requestor@studio.test';

  beforeAll(async () => {
    t = await startTestStack(
      attachTrainers(
        testConfig({
          models: {
            curve: {
              target: 'churned',
              exclude: ['player_id'],
              training: {
                image: 'test/fixtures/trainers/resumable',
                hyperparameters: { epochs: EPOCHS, epoch_seconds: EPOCH_SECONDS, loss: 1 },
                resources: { gpus: 0 },
              },
              evaluation: { splitKey: 'player_id', seed: 5 },
              // The fixture predicts the base rate: no gate, what matters here is the trials.
              gates: { staging: [] },
            },
          },
        }),
      ),
    );
    store = new Registry(createDocumentClient(t.stack.dynamo.client), t.stack.endpoints.tableName);
    await new S3Objects(t.stack.s3.client).put(
      { bucket: t.stack.endpoints.bucket, key: 'datasets/curve/data.csv' },
      churnCsv({ rows: 600, seed: 3 }),
      'text/csv',
    );
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it("terminates the weak trial's job at its first ASHA rung, records why and at which epoch, and deploys the strong one", async () => {
    const before = readOutbox(t.stack.endpoints.outboxDir).length;
    const executionArn = await startAs(t.stack, REQUESTOR, {
      model: 'curve',
      stage: 'staging',
      reason: 'early stopping while training',
      sweep: {
        parameters: { loss: { grid: [1, 4] } },
        strategy: 'grid',
        trials: 2,
        concurrency: 1,
        metric: 'auc',
        earlyStopping: { rule: 'asha', minEpochs: 2, reductionFactor: 3, metric: 'trainLoss' },
      },
    });
    const link = await nextApprovalLink(t.stack.endpoints.outboxDir, before, {
      timeoutMs: 240_000,
      why: () => JSON.stringify(t.stack.engine.describe(executionArn).error),
    });
    await approveThroughLink(link, 'approve', 'the strong trial', []);
    const result = await t.stack.engine.settled(executionArn);
    expect(result.error ?? '').toBe('');
    expect(result.status).toBe('SUCCEEDED');

    const name = executionArn.split(':').pop() as string;
    const runs = (await store.runs.listRuns('curve')).filter((r) => r.sweep?.id === name);
    const byTrial = new Map(runs.map((r) => [r.sweep?.trial, r]));
    const strong = byTrial.get(0);
    const weak = byTrial.get(1);
    expect(strong).toMatchObject({ status: 'succeeded', sweep: { best: true } });
    expect((await store.stages.getStage('curve', 'staging'))?.version).toBe(strong?.version);
    expect(weak?.status).toBe('stopped');
    // At its first rung (epoch 2) its trainLoss 4/2 = 2 is not in the top 1 of 2 (0.5 of trial 0).
    expect(weak?.sweep?.stopped).toMatch(
      /^stopped while training, after epoch \d+: ASHA rung 0 \(epoch 2\): trainLoss 2 is not in the top 1 of the 2 trials at that rung \(threshold 0\.5, min\)$/,
    );
    const at = weak?.sweep?.stoppedAtEpoch ?? EPOCHS;
    expect(at).toBeGreaterThanOrEqual(2);
    expect(at).toBeLessThan(EPOCHS);
    // Its job was terminated: no outputs were published, and its log stops before the last epoch.
    const objects = new S3Objects(t.stack.s3.client);
    const bucket = t.stack.endpoints.bucket;
    expect(await objects.head({ bucket, key: `runs/curve/${weak?.runId}/model.tar.gz` })).toBeUndefined();
    expect(
      await objects.head({ bucket, key: `runs/curve/${weak?.runId}/progress/metrics.jsonl` }),
    ).toBeDefined();
    // The run's logs link is the local job's log file.
    const log = weak?.logs ?? '';
    expect(log.endsWith(`${lifecycleJobName('train', 'curve', weak?.runId ?? '')}.log`)).toBe(true);
    expect(existsSync(log)).toBe(true);
    expect(readFileSync(log, 'utf8')).toContain('"event": "epoch"');
    expect(readFileSync(log, 'utf8')).not.toContain(`"epoch": ${EPOCHS},`);
    // `runs show` of the stopped trial: why, and its curve as far as it was copied.
    const shown = await showRun({ bucket, objects, registry: store }, weak?.runId ?? '', 'curve');
    expect(shown.sweep).toEqual({ id: name, trial: 1, best: false, stopped: weak?.sweep?.stopped });
    expect(shown.epochsUri).toBe(`s3://${bucket}/runs/curve/${weak?.runId}/progress/metrics.jsonl`);
    expect(shown.epochs.length).toBeGreaterThanOrEqual(2);
    expect(shown.epochs[1]?.trainLoss).toBe(2);
    // The execution took the trial's stopped path, without a predict job or an evaluation.
    const entered = result.events
      .filter((e) => e.type === 'MapStateEntered' || e.type.endsWith('StateEntered'))
      .map((e) => (e as { stateEnteredEventDetails?: { name?: string } }).stateEnteredEventDetails?.name);
    expect(entered.filter((n) => n === 'TrialStopped')).toHaveLength(1);
    expect(entered.filter((n) => n === 'TrialEvaluate')).toHaveLength(1);
    expect(entered.filter((n) => n === 'TrialFailed')).toHaveLength(0);
    console.log(
      `early stopping while training: the weak trial stopped after epoch ${at} of ${EPOCHS}, ` +
        `${weak?.sweep?.trainingSeconds?.toFixed(1)} s from its start against ` +
        `${strong?.sweep?.trainingSeconds?.toFixed(1)} s for the strong trial's ${EPOCHS} epochs`,
    );
  }, 300_000);
});
