import { describe, expect, it } from 'vitest';
import type { GateConfig } from '../../../lambdas/contracts/config-schema.js';
import { evaluateGates } from '../../../lambdas/domain/registry/gates.js';

const metrics = { auc: 0.8, accuracy: 0.75, precision: 0.6, recall: 0.5, f1: 0.55, logLoss: 0.45 };
const g = (gate: Partial<GateConfig> & { metric: GateConfig['metric'] }) =>
  ({ required: true, ...gate }) as GateConfig;

describe('evaluateGates', () => {
  it.each([
    ['>=', 0.8, true],
    ['>', 0.8, false],
    ['<=', 0.8, true],
    ['<', 0.8, false],
    ['==', 0.8, true],
    ['>=', 0.81, false],
  ] as const)('auc 0.8 %s %s ⇒ %s', (operator, threshold, passed) => {
    const out = evaluateGates([g({ metric: 'auc', operator, threshold })], metrics, null, true);
    expect(out.results[0]?.passed).toBe(passed);
    expect(out.passed).toBe(passed);
  });

  it('an advisory failure is reported but does not fail the outcome', () => {
    const out = evaluateGates(
      [g({ metric: 'logLoss', operator: '<=', threshold: 0.3, required: false })],
      metrics,
      null,
      false,
    );
    expect(out.results[0]?.passed).toBe(false);
    expect(out.passed).toBe(true);
    expect(out.approvalRequired).toBe(false);
  });

  it('a relative gate allows a regression up to the margin, in the metric’s direction', () => {
    const serving = { version: '1.0.0', metrics: { ...metrics, auc: 0.805, logLoss: 0.44 } };
    const ok = evaluateGates([g({ metric: 'auc', noWorseThanServingBy: 0.01 })], metrics, serving, true);
    expect(ok.passed).toBe(true);
    expect(ok.results[0]).toMatchObject({ kind: 'relative', servingValue: 0.805, operator: '>=' });
    const worse = evaluateGates([g({ metric: 'auc', noWorseThanServingBy: 0.001 })], metrics, serving, true);
    expect(worse.passed).toBe(false);
    // log loss: lower is better, so the candidate's 0.45 vs 0.44 is 0.01 worse
    const loss = evaluateGates(
      [g({ metric: 'logLoss', noWorseThanServingBy: 0.005 })],
      metrics,
      serving,
      true,
    );
    expect(loss.results[0]).toMatchObject({ operator: '<=', passed: false });
  });

  it('a relative gate passes, saying why, when nothing serves yet', () => {
    const out = evaluateGates([g({ metric: 'auc', noWorseThanServingBy: 0.01 })], metrics, null, true);
    expect(out.passed).toBe(true);
    expect(out.results[0]?.detail).toMatch(/no version serves/);
    expect(out.servingVersion).toBeNull();
  });

  it('refuses a gate on a metric the candidate lacks, naming it', () => {
    expect(() =>
      evaluateGates([g({ metric: 'f1', operator: '>=', threshold: 0.5 })], { auc: 0.9 }, null, true),
    ).toThrow(/"f1".*has no f1/);
  });
});
