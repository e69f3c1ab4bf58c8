import { describe, expect, it } from 'vitest';
import { inForce, type LedgerAction, type LedgerEntry } from '../../../lambdas/domain/registry/types.js';

const entry = (stage: string, seq: number, action: LedgerAction, to: string): LedgerEntry => ({
  model: 'churn',
  stage,
  seq,
  action,
  fromVersion: null,
  toVersion: to,
  actor: 'a@studio.test',
  reason: 'r',
  at: `2026-11-0${seq}T00:00:00Z`,
  evidence: {},
});

describe('inForce (what served each stage, from a ledger history newest first)', () => {
  it('takes the newest stage change of each stage, passing over rejections', () => {
    const history = [
      entry('production', 4, 'reject', '1.3.0'),
      entry('staging', 3, 'promote', '1.2.0'),
      entry('production', 2, 'rollback', '1.0.0'),
      entry('staging', 2, 'promote', '1.1.0'),
      entry('production', 1, 'promote', '1.1.0'),
    ];
    expect(inForce(history).map((e) => `${e.stage}@${e.toVersion}`)).toEqual([
      'staging@1.2.0',
      'production@1.0.0',
    ]);
  });

  it('is empty for an empty history or one of rejections only', () => {
    expect(inForce([])).toEqual([]);
    expect(inForce([entry('production', 1, 'reject', '1.0.0')])).toEqual([]);
  });
});
