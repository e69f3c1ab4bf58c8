import { describe, expect, it } from 'vitest';
import { encode, fitFeatures, inputNames, MAX_CATEGORIES } from '../../../lambdas/domain/ml/features.js';

describe('fitFeatures', () => {
  const rows = [
    { minutes: '10', platform: 'ios', level: 1 },
    { minutes: '', platform: 'ios', level: 2 },
    { minutes: '30', platform: 'pc', level: 3 },
    { minutes: '20', platform: 'android', level: 4 },
  ];

  it('standardises numerics with the training mean and std, with a missing indicator where blanks were seen', () => {
    const [minutes, , level] = fitFeatures(rows, ['minutes', 'platform', 'level']);
    // Present minutes 10, 30, 20: mean 20, population std sqrt(200/3).
    expect(minutes).toEqual({
      kind: 'numeric',
      name: 'minutes',
      mean: 20,
      std: Math.sqrt(200 / 3),
      missingIndicator: true,
    });
    expect(level).toMatchObject({ kind: 'numeric', mean: 2.5, missingIndicator: false });
  });

  it('one-hot encodes categoricals over the training vocabulary, most frequent first', () => {
    const [, platform] = fitFeatures(rows, ['minutes', 'platform']);
    expect(platform).toEqual({ kind: 'categorical', name: 'platform', categories: ['ios', 'android', 'pc'] });
  });

  it('encodes blanks as the mean plus indicator, and unseen categories into the (other) input', () => {
    const specs = fitFeatures(rows, ['minutes', 'platform']);
    expect(inputNames(specs)).toEqual([
      'minutes',
      'minutes (missing)',
      'platform=ios',
      'platform=android',
      'platform=pc',
      'platform=(other)',
    ]);
    expect([...encode(specs, { minutes: '30', platform: 'pc' })]).toEqual([
      10 / Math.sqrt(200 / 3),
      0,
      0,
      0,
      1,
      0,
    ]);
    expect([...encode(specs, { minutes: null, platform: 'switch' })]).toEqual([0, 1, 0, 0, 0, 1]);
    // A value that is not a number in a numeric column is treated as missing, not as NaN.
    expect([...encode(specs, { minutes: 'n/a' })]).toEqual([0, 1, 0, 0, 0, 1]);
  });

  it('keeps a constant column usable (std 1 instead of a division by zero)', () => {
    const [constant] = fitFeatures([{ c: 5 }, { c: 5 }], ['c']);
    expect(constant).toMatchObject({ mean: 5, std: 1 });
  });

  it('refuses a column with no values, saying to exclude it', () => {
    expect(() => fitFeatures([{ a: '' }, { a: null }], ['a'])).toThrow(/column "a" has no values.*exclude/);
  });

  it('warns about identifier-like columns and caps their vocabulary', () => {
    const ids = Array.from({ length: MAX_CATEGORIES + 10 }, (_, i) => ({ id: `p${i}` }));
    const warnings: string[] = [];
    const [spec] = fitFeatures(ids, ['id'], (w) => warnings.push(w));
    expect(spec?.kind === 'categorical' && spec.categories.length).toBe(MAX_CATEGORIES);
    expect(warnings).toEqual([expect.stringContaining('column "id" has a distinct value on every row')]);
  });
});
