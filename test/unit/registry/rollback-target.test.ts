import { describe, expect, it } from 'vitest';
import { rollbackTarget } from '../../../lambdas/domain/registry/rollback-target.js';
import type { LedgerAction, LedgerEntry, StagePointer } from '../../../lambdas/domain/registry/types.js';

const entry = (
  seq: number,
  action: LedgerAction,
  from: string | null,
  to: string,
  at: string,
): LedgerEntry => ({
  model: 'churn',
  stage: 'production',
  seq,
  action,
  fromVersion: from,
  toVersion: to,
  actor: 'a@studio.test',
  reason: 'r',
  at,
  evidence: {},
});

const pointer = (version: string, ledgerSeq: number): StagePointer => ({
  model: 'churn',
  stage: 'production',
  version,
  ledgerSeq,
  since: '2026-11-01T00:00:00Z',
});

describe('rollbackTarget', () => {
  // Newest first, as the store returns them: a refused promotion of 1.2.0 after 1.1.0 shipped.
  const ledger = [
    entry(2, 'reject', '1.1.0', '1.2.0', '2026-11-03T00:00:00Z'),
    entry(2, 'promote', '1.0.0', '1.1.0', '2026-11-02T00:00:00Z'),
    entry(1, 'promote', null, '1.0.0', '2026-11-01T00:00:00Z'),
  ];

  it('goes back to the version before the change in force, ignoring refused promotions', () => {
    expect(rollbackTarget('churn', 'production', pointer('1.1.0', 2), ledger)).toBe('1.0.0');
  });

  it('walks further back on a second rollback instead of returning to the version rolled back from', () => {
    const chain = [
      entry(4, 'rollback', '1.2.0', '1.1.0', '2026-11-04T00:00:00Z'),
      entry(3, 'promote', '1.1.0', '1.2.0', '2026-11-03T00:00:00Z'),
      ...ledger.slice(1),
    ];
    expect(rollbackTarget('churn', 'production', pointer('1.1.0', 4), chain)).toBe('1.0.0');
    const back = [entry(5, 'rollback', '1.1.0', '1.0.0', '2026-11-05T00:00:00Z'), ...chain];
    expect(() => rollbackTarget('churn', 'production', pointer('1.0.0', 5), back)).toThrow(
      /every earlier version was rolled back from \(1\.1\.0, 1\.2\.0\); choose one with --to/,
    );
  });

  it('offers a version again once it was promoted again after a rollback from it', () => {
    const chain = [
      entry(5, 'promote', '1.1.0', '1.3.0', '2026-11-06T00:00:00Z'),
      entry(4, 'promote', '1.0.0', '1.1.0', '2026-11-05T00:00:00Z'),
      entry(3, 'rollback', '1.1.0', '1.0.0', '2026-11-04T00:00:00Z'),
      ...ledger.slice(1),
    ];
    expect(rollbackTarget('churn', 'production', pointer('1.3.0', 5), chain)).toBe('1.1.0');
  });

  it('takes a named version, but not the one serving', () => {
    expect(rollbackTarget('churn', 'production', pointer('1.1.0', 2), ledger, '0.9.0')).toBe('0.9.0');
    expect(() => rollbackTarget('churn', 'production', pointer('1.1.0', 2), ledger, '1.1.0')).toThrow(
      'churn 1.1.0 already serves production',
    );
  });

  it('refuses when nothing serves, or the first version serves, saying what to do', () => {
    expect(() => rollbackTarget('churn', 'production', undefined, [])).toThrow(/nothing serves churn/);
    expect(() => rollbackTarget('churn', 'production', pointer('1.0.0', 1), ledger.slice(2))).toThrow(
      /first version to serve production.*--to <version>/,
    );
  });
});
