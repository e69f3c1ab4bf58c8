import { describe, expect, it } from 'vitest';
import { predictionDisagreement } from '../../../lambdas/domain/ml/prediction-agreement.js';

describe('predictionDisagreement (Deploy’s smoke answers against the evaluation’s)', () => {
  it('accepts equal answers, and the slack of float formatting', () => {
    expect(predictionDisagreement([0.25, 0.7], [0.25, 0.7])).toBeUndefined();
    expect(predictionDisagreement([0.123457], [0.12345678901234])).toBeUndefined();
    expect(predictionDisagreement([120.00001], [120])).toBeUndefined();
    expect(predictionDisagreement([{ a: 0.2, b: 0.8 }], [{ b: 0.8, a: 0.2 }])).toBeUndefined();
  });

  it('names the first row whose answer moved beyond the slack', () => {
    expect(predictionDisagreement([0.25, 0.71, 0.1], [0.25, 0.64, 0.9])).toBe(
      'row 2: the predict entry now answers 0.71, the evaluation measured 0.64',
    );
    expect(predictionDisagreement([120.5], [120])).toMatch(/^row 1: /);
  });

  it('refuses a different class set, a shape change and a different count', () => {
    expect(predictionDisagreement([{ a: 0.2, c: 0.8 }], [{ a: 0.2, b: 0.8 }])).toMatch(/^row 1: /);
    expect(predictionDisagreement([{ a: 0.2, b: 0.8 }], [{ a: 0.2, b: 0.7, c: 0.1 }])).toMatch(/^row 1: /);
    expect(predictionDisagreement([0.3], [{ a: 0.3, b: 0.7 }])).toMatch(/^row 1: /);
    expect(predictionDisagreement([0.3], [0.3, 0.4])).toBe('1 answers now for 2 rows the evaluation scored');
  });
});
