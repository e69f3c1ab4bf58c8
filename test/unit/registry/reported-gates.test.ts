import { describe, expect, it } from 'vitest';
import { evaluateGates } from '../../../lambdas/domain/registry/gates.js';

describe('gates on reported metrics', () => {
  it('checks reported:<name> against what the trainer reported, and says it was reported', () => {
    const outcome = evaluateGates(
      [
        { metric: 'r2', operator: '>=', threshold: 0.3, required: true },
        { metric: 'reported:validationR2', operator: '>=', threshold: 0.9, required: true },
      ],
      { r2: 0.41 },
      null,
      false,
      { validationR2: 0.95, r2: 0.99 },
    );
    expect(outcome.passed).toBe(true);
    expect(outcome.results[1]).toMatchObject({
      metric: 'reported:validationR2',
      value: 0.95,
      passed: true,
      detail: expect.stringContaining('reported by the trainer, not measured by mlcycle'),
    });
    // A measured gate never reads the reported value of the same name.
    expect(outcome.results[0]?.value).toBe(0.41);
  });

  it('refuses a gate on a metric the trainer did not report, listing what it did', () => {
    expect(() =>
      evaluateGates(
        [{ metric: 'reported:auc', operator: '>=', threshold: 0.5, required: true }],
        {},
        null,
        false,
        {
          loss: 1,
        },
      ),
    ).toThrow(/gate on "reported:auc" cannot be checked: the trainer reported no auc \(it reported: loss\)/);
  });
});
