import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateOutcomeSchema, type Metrics } from '../../lambdas/contracts/pipeline.js';
import {
  fixtureConfig,
  type HandlerWorld,
  handlerWorld,
  lifecycleState,
  lineageFor,
  METRICS,
  MODEL,
  pipelineState,
  REQUESTOR,
  runInfo,
} from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;

describe('gate handler (Gate state, DynamoDB Local)', () => {
  let w: HandlerWorld;
  let handler: Handler;

  /** The Gate state's input for a candidate with these metrics, under these gates. */
  const stateFor = (
    gates: unknown[],
    metrics: Metrics = METRICS,
    stage = 'staging',
    approvalRequired = true,
  ) => {
    const input = pipelineState({ stage });
    // The gates and whether approval is needed are the deployed policy's, not the state's.
    w.deploy(
      fixtureConfig({
        environments: {
          staging: { approvers: ['a@studio.test'] },
          [stage]: { approvers: ['a@studio.test'], quorum: approvalRequired ? 1 : 0, gates },
        },
      }),
    );
    const run = runInfo(w.bucket, 'candidate');
    return lifecycleState({
      input,
      run,
      evaluation: {
        metrics,
        reportedMetrics: {},
        holdoutRows: 240,
        artifact: { uri: `${run.outputUri}model.json`, sha256: 'c'.repeat(64) },
        modelCardUri: `${run.outputUri}model-card.json`,
        evaluationUri: `${run.outputUri}evaluation.json`,
      },
      registration: { version: '9.0.0', parentVersion: null },
    });
  };
  const gate = async (...args: Parameters<typeof stateFor>) =>
    gateOutcomeSchema.parse(await handler(stateFor(...args)));
  const serve = async (stage: string, metrics: Partial<Metrics>, runId: string) => {
    const v = await w.registry.versions.registerVersion({
      model: MODEL,
      bump: 'minor',
      metrics,
      lineage: lineageFor(w.bucket, runId),
    });
    await w.registry.stages.promote({
      model: MODEL,
      stage,
      version: v.version,
      actor: REQUESTOR,
      reason: 'fixture',
      action: 'promote',
    });
    return v.version;
  };

  beforeAll(async () => {
    w = await handlerWorld('gate');
    ({ handler } = (await import('../../lambdas/handlers/gate.js')) as { handler: Handler });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('passes when every required gate passes, with each gate’s evidence, and nothing serves yet', async () => {
    const out = await gate(
      [
        { metric: 'auc', operator: '>=', threshold: 0.75, required: true },
        { metric: 'logLoss', operator: '<', threshold: 0.6, required: true },
        { metric: 'auc', noWorseThanServingBy: 0.01, required: true },
      ],
      METRICS,
      'staging',
      false,
    );
    expect(out).toEqual({
      passed: true,
      approvalRequired: false,
      servingVersion: null,
      results: [
        expect.objectContaining({
          metric: 'auc',
          kind: 'absolute',
          value: 0.81,
          threshold: 0.75,
          passed: true,
        }),
        expect.objectContaining({
          metric: 'logLoss',
          kind: 'absolute',
          value: 0.47,
          threshold: 0.6,
          passed: true,
        }),
        expect.objectContaining({
          metric: 'auc',
          kind: 'relative',
          servingValue: null,
          passed: true,
          detail: expect.stringContaining('no version serves this stage yet'),
        }),
      ],
    });
    // JSON has no NaN: the outcome must survive the trip through Step Functions.
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('a required gate that fails ⇒ passed false with its evidence (returned, not thrown: the Choice routes it)', async () => {
    const out = await gate([
      { metric: 'auc', operator: '>=', threshold: 0.9, required: true },
      { metric: 'recall', operator: '>', threshold: 0.5, required: true },
    ]);
    expect(out.passed).toBe(false);
    expect(out.approvalRequired).toBe(true);
    expect(out.results).toEqual([
      {
        metric: 'auc',
        kind: 'absolute',
        operator: '>=',
        threshold: 0.9,
        value: 0.81,
        required: true,
        passed: false,
        detail: 'auc 0.81 fails >= 0.9',
      },
      expect.objectContaining({ metric: 'recall', passed: true }),
    ]);
  });

  it('an advisory gate that fails is reported but does not block', async () => {
    const out = await gate([
      { metric: 'auc', operator: '>=', threshold: 0.75, required: true },
      { metric: 'precision', operator: '>=', threshold: 0.9, required: false },
    ]);
    expect(out.passed).toBe(true);
    expect(out.results[1]).toMatchObject({
      metric: 'precision',
      required: false,
      passed: false,
      value: 0.64,
    });
  });

  it('a relative gate compares with the version serving the target stage, in the metric’s direction', async () => {
    const served = await serve('production', { ...METRICS, auc: 0.85, logLoss: 0.4 }, 'served-prod');
    await serve('staging', { ...METRICS, auc: 0.7, logLoss: 0.9 }, 'served-staging');
    const gates = [
      { metric: 'auc', noWorseThanServingBy: 0.01, required: true },
      { metric: 'logLoss', noWorseThanServingBy: 0.02, required: true },
    ];

    const close = await gate(gates, { ...METRICS, auc: 0.845, logLoss: 0.415 }, 'production');
    expect(close.passed).toBe(true);
    expect(close.servingVersion).toBe(served);
    expect(close.results).toEqual([
      expect.objectContaining({ kind: 'relative', operator: '>=', servingValue: 0.85, passed: true }),
      expect.objectContaining({ kind: 'relative', operator: '<=', servingValue: 0.4, passed: true }),
    ]);
    expect(close.results[0]?.threshold).toBeCloseTo(0.84, 12);
    expect(close.results[1]?.threshold).toBeCloseTo(0.42, 12);
    expect(close.results[0]?.detail).toContain(`serving (${served})`);

    // Worse by more than the margin: AUC down 0.02; log loss up 0.03 (higher is worse).
    const worse = await gate(gates, { ...METRICS, auc: 0.83, logLoss: 0.43 }, 'production');
    expect(worse.passed).toBe(false);
    expect(worse.results.map((r) => r.passed)).toEqual([false, false]);

    // The same candidate against staging's (weaker) serving version passes.
    expect((await gate(gates, { ...METRICS, auc: 0.83, logLoss: 0.43 }, 'staging')).passed).toBe(true);
  });

  it('a gate on a metric the serving version lacks cannot be checked ⇒ ValidationError naming it', async () => {
    const served = await serve('canary', { auc: 0.8 }, 'external');
    await expect(
      handler(stateFor([{ metric: 'f1', noWorseThanServingBy: 0.05, required: true }], METRICS, 'canary')),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(`serving version ${served} has no f1`),
    });
  });

  it('writes nothing to the registry', async () => {
    const before = await w.scan();
    await gate([{ metric: 'auc', noWorseThanServingBy: 0, required: true }], METRICS, 'production');
    expect(await w.scan()).toBe(before);
  });

  it('invalid state ⇒ ValidationError naming the field', async () => {
    const state = stateFor([]);
    const { registration: _r, ...noRegistration } = state;
    await expect(handler(noRegistration)).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('Gate input: registration'),
    });
  });

  it('gates come from the deployed config: a policy carried in the state changes nothing', async () => {
    const strict = stateFor([{ metric: 'auc', operator: '>=', threshold: 0.99, required: true }]);
    const forged = { ...strict, policy: { gates: [], approvers: [], quorum: 0, approvalRequired: false } };
    const outcome = gateOutcomeSchema.parse(await handler(forged));
    expect(outcome.passed).toBe(false);
    expect(outcome.approvalRequired).toBe(true);
    expect(outcome.results[0]).toMatchObject({ metric: 'auc', threshold: 0.99, passed: false });
  });
});
