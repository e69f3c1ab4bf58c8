import { describe, expect, it } from 'vitest';
import {
  activeVersion,
  type BaselineVersion,
  checkDiscard,
  checkUse,
  MAX_REASON_LENGTH,
  newestFirst,
  requireReason,
  requireVersion,
} from '../../../lambdas/domain/drift/baselines.js';

const v = (id: string, uploadedAt: string, extra: Partial<BaselineVersion> = {}): BaselineVersion => ({
  model: 'churn',
  id,
  sourceKey: `monitoring/churn/baseline/${id}.csv`,
  profileKey: `reports/churn/profiles/baseline-${id}.json`,
  rows: 10,
  columns: 2,
  uploadedAt,
  uploadedBy: 'S3 upload',
  ...extra,
});

describe('which baseline may be used or discarded', () => {
  const a = v('a', '2026-11-01T00:00:00.000Z');
  const b = v('b', '2026-11-02T00:00:00.000Z');
  const gone = v('c', '2026-11-03T00:00:00.000Z', {
    discarded: { by: 'x@studio.test', principal: null, at: '2026-11-04T00:00:00.000Z', reason: 'bad' },
  });

  it('the active one is the version whose profile the pointer names', () => {
    expect(activeVersion([a, b], b.profileKey)).toBe(b);
    expect(activeVersion([a, b], undefined)).toBeUndefined();
    expect(activeVersion([a, b], 'reports/churn/profiles/other.json')).toBeUndefined();
  });

  it('never discards the active one, nor one twice; says what to do', () => {
    expect(() => checkDiscard(b, b)).toThrow(
      /make another one active first: mlcycle drift use-baseline churn <id>/,
    );
    expect(() => checkDiscard(gone, b)).toThrow(/already discarded by x@studio.test/);
    expect(() => checkDiscard(a, b)).not.toThrow();
  });

  it('never uses a discarded one, nor the one already active', () => {
    expect(() => checkUse(gone, b)).toThrow(/never used again/);
    expect(() => checkUse(b, b)).toThrow(/already the active baseline/);
    expect(() => checkUse(a, b)).not.toThrow();
    expect(() => checkUse(a, undefined)).not.toThrow();
  });

  it('lists newest first (ties by id), and names the known ids of an unknown one', () => {
    const tie = v('z', a.uploadedAt);
    expect(newestFirst([a, tie, gone, b]).map((x) => x.id)).toEqual(['c', 'b', 'z', 'a']);
    expect(() => requireVersion([a, b], 'churn', 'q')).toThrow(
      'no baseline "q" for churn; its baselines are b, a',
    );
    expect(() => requireVersion([], 'churn', 'q')).toThrow(
      /it has none: profile one with mlcycle drift baseline churn <file>/,
    );
  });

  it('a reason is required: one line, bounded, no control characters', () => {
    expect(requireReason('  wrong export  ', 'x')).toBe('wrong export');
    expect(() => requireReason(' ', 'using a baseline')).toThrow(/using a baseline needs a reason/);
    expect(() => requireReason('a\nb', 'x')).toThrow(/one line/);
    expect(() => requireReason('a\u202eb', 'x')).toThrow(/control characters/);
    expect(() => requireReason('r'.repeat(MAX_REASON_LENGTH + 1), 'x')).toThrow(/at most 500/);
    expect(requireReason('r'.repeat(MAX_REASON_LENGTH), 'x')).toHaveLength(MAX_REASON_LENGTH);
  });
});
