import { describe, expect, it } from 'vitest';
import { pickBest } from '../../../lambdas/domain/sweeps/best.js';
import { ashaRungs, type StoppingRule, shouldStop } from '../../../lambdas/domain/sweeps/early-stopping.js';

const asha: StoppingRule = {
  rule: 'asha',
  minEpochs: 1,
  reductionFactor: 3,
  metric: 'trainLoss',
  direction: 'min',
};
const median: StoppingRule = { ...asha, rule: 'median', minEpochs: 2 };
const curve = (index: number, values: number[]) => ({ index, values });

describe('ashaRungs', () => {
  it('is minEpochs · η^k up to the epochs trained', () => {
    expect(ashaRungs(1, 3, 40)).toEqual([1, 3, 9, 27]);
    expect(ashaRungs(2, 2, 16)).toEqual([2, 4, 8, 16]);
    expect(ashaRungs(5, 3, 4)).toEqual([]);
  });
});

describe('shouldStop (ASHA)', () => {
  it('the first trial at a rung goes on', () => {
    expect(shouldStop(curve(0, [0.9, 0.8, 0.7]), [], asha).stop).toBe(false);
  });

  it('stops a trial outside the top 1/η at a rung, naming the rung, the value and the threshold', () => {
    const others = [curve(0, [0.5, 0.4, 0.3]), curve(1, [0.6, 0.5, 0.45]), curve(2, [0.7, 0.6, 0.5])];
    const d = shouldStop(curve(3, [0.8, 0.7, 0.6]), others, asha);
    expect(d.stop).toBe(true);
    expect(d.reason).toBe(
      'ASHA rung 0 (epoch 1): trainLoss 0.8 is not in the top 1 of the 4 trials at that rung (threshold 0.5, min)',
    );
  });

  it('keeps the best and stops at a later rung when it falls behind there', () => {
    const promoted = (index: number, values: number[]) => ({ ...curve(index, values), judgedThrough: 3 });
    const others = [
      promoted(0, [0.9, 0.5, 0.2]),
      promoted(1, [0.95, 0.6, 0.3]),
      promoted(2, [0.99, 0.7, 0.4]),
    ];
    const d = shouldStop(curve(3, [0.1, 0.65, 0.6]), others, asha);
    expect(d).toMatchObject({ stop: true, judgedThrough: 3 });
    expect(d.reason).toMatch(/^ASHA rung 1 \(epoch 3\): trainLoss 0.6 .*threshold 0.2/);
  });

  it('judges each rung once: a rung passed stays passed whoever reaches it later', () => {
    const late = [curve(0, [0.1, 0.1, 0.1]), curve(1, [0.2, 0.2, 0.2])];
    // Judged alone at epoch 1 earlier (it passed); better trials reached epoch 1 since.
    const d = shouldStop({ ...curve(2, [0.9, 0.8]), judgedThrough: 1 }, late, asha);
    expect(d).toEqual({
      stop: false,
      reason: 'passed 1 ASHA rung(s), the last at epoch 1',
      judgedThrough: 1,
    });
    // Not yet judged, the same trial stops at rung 0.
    expect(shouldStop(curve(2, [0.9, 0.8]), late, asha)).toMatchObject({ stop: true, judgedThrough: 1 });
  });

  it('counts a peer at a rung only once it was promoted through the rung before', () => {
    // Peer 0 trained past epoch 3 but has not been judged at rung 0 (epoch 1) yet: not at rung 1.
    const unpromoted = curve(0, [0.5, 0.1, 0.05]);
    const trial = { ...curve(1, [0.4, 0.3, 0.2]), judgedThrough: 1 };
    expect(shouldStop(trial, [unpromoted], asha)).toMatchObject({ stop: false, judgedThrough: 3 });
    expect(shouldStop(trial, [{ ...unpromoted, judgedThrough: 1 }], asha)).toMatchObject({
      stop: true,
      judgedThrough: 3,
    });
  });

  it('ties go to the lower index; max direction works', () => {
    const rule: StoppingRule = { ...asha, metric: 'validationAuc', direction: 'max' };
    const others = [curve(0, [0.7]), curve(1, [0.6]), curve(2, [0.5])];
    expect(shouldStop(curve(3, [0.7]), others, rule).stop).toBe(true);
    expect(shouldStop(curve(3, [0.71]), others, rule).stop).toBe(false);
  });

  it('a trial without the metric stops, saying the trainer must write it', () => {
    expect(shouldStop(curve(0, []), [], asha).reason).toMatch(/has no trainLoss value/);
  });

  it('none never stops', () => {
    expect(shouldStop(curve(1, [9]), [curve(0, [0])], { ...asha, rule: 'none' }).stop).toBe(false);
  });
});

describe('shouldStop (median rule)', () => {
  it('stops when the best so far is worse than the median of the others’ running averages', () => {
    const others = [curve(0, [0.5, 0.3, 0.2]), curve(1, [0.6, 0.4, 0.3]), curve(2, [0.9, 0.8, 0.7])];
    const d = shouldStop(curve(3, [0.8, 0.7, 0.65]), others, median);
    expect(d.stop).toBe(true);
    // epoch 2: averages 0.4, 0.5, 0.85 → median 0.5; best so far 0.7
    expect(d.reason).toBe(
      "median rule at epoch 2: best trainLoss so far 0.7 is worse than the median 0.5 of 3 other trial(s)' running averages (min)",
    );
  });

  it('goes on when it is at least as good as the median, and ignores epochs before minEpochs', () => {
    const others = [curve(0, [0.5, 0.3]), curve(1, [0.6, 0.4])];
    expect(shouldStop(curve(2, [0.9, 0.35]), others, median).stop).toBe(false);
  });
});

describe('pickBest', () => {
  const trials = [
    { index: 0, status: 'evaluated' as const, metrics: { auc: 0.8 } },
    { index: 1, status: 'stopped' as const, metrics: { auc: 0.99 } },
    { index: 2, status: 'evaluated' as const, metrics: { auc: 0.85 } },
    { index: 3, status: 'evaluated' as const, metrics: { auc: 0.85 } },
    { index: 4, status: 'failed' as const },
  ];
  it('chooses by the measured metric among evaluated trials, ties to the lower index', () => {
    const { best, ranked } = pickBest(trials, 'auc', 'max');
    expect(best?.index).toBe(2);
    expect(ranked.map((t) => t.index)).toEqual([2, 3, 0]);
    expect(pickBest(trials, 'auc', 'min').best?.index).toBe(0);
  });
  it('finds none when no trial was evaluated', () => {
    expect(
      pickBest(
        trials.filter((t) => t.status !== 'evaluated'),
        'auc',
        'max',
      ).best,
    ).toBeUndefined();
  });
});
