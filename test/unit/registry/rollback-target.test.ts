import fc from 'fast-check';
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
      /every earlier version was rolled back from \(1\.1\.0, 1\.2\.0\); choose one that served before with --to/,
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

  it('takes a named version that served before, but not the one serving', () => {
    expect(rollbackTarget('churn', 'production', pointer('1.1.0', 2), ledger, '1.0.0')).toBe('1.0.0');
    expect(() => rollbackTarget('churn', 'production', pointer('1.1.0', 2), ledger, '1.1.0')).toThrow(
      'churn 1.1.0 already serves production',
    );
  });

  it('refuses when nothing serves, or the first version serves, saying what to do', () => {
    expect(() => rollbackTarget('churn', 'production', undefined, [])).toThrow(/nothing serves churn/);
    expect(() => rollbackTarget('churn', 'production', pointer('1.0.0', 1), ledger.slice(2))).toThrow(
      /first version to serve production/,
    );
  });

  it('refuses a named version that never served the stage, or was rejected for it since: "use promote"', () => {
    expect(() => rollbackTarget('churn', 'production', pointer('1.1.0', 2), ledger, '0.9.0')).toThrow(
      /churn 0\.9\.0 never served production.*mlcycle models promote churn 0\.9\.0 --stage production/,
    );
    // 1.2.0 was only ever refused for production: it never served it.
    expect(() => rollbackTarget('churn', 'production', pointer('1.1.0', 2), ledger, '1.2.0')).toThrow(
      /never served production/,
    );
    const rejectedAgain = [
      entry(3, 'promote', '1.1.0', '1.3.0', '2026-11-05T00:00:00Z'),
      entry(2, 'reject', '1.1.0', '1.0.0', '2026-11-04T00:00:00Z'),
      ...ledger,
    ];
    expect(() => rollbackTarget('churn', 'production', pointer('1.3.0', 3), rejectedAgain, '1.0.0')).toThrow(
      /churn 1\.0\.0 was rejected for production by a@studio\.test .* after it last served/,
    );
    // Walking back skips it too: 1.1.0 served and nobody rejected it since.
    expect(rollbackTarget('churn', 'production', pointer('1.3.0', 3), rejectedAgain)).toBe('1.1.0');
  });

  it('property: whatever the ledger, a rollback target served the stage before and was not rejected since', () => {
    const versions = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0'];
    const step = fc.record({
      action: fc.constantFrom<LedgerAction>('promote', 'promote', 'rollback', 'reject'),
      to: fc.constantFrom(...versions),
    });
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 12 }),
        fc.option(fc.constantFrom(...versions)),
        (steps, named) => {
          // Build a ledger the way the store does: stage changes advance seq; rejects keep it.
          const built: LedgerEntry[] = [];
          let serving: string | null = null;
          let seq = 0;
          for (const [i, st] of steps.entries()) {
            const at = new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString();
            if (st.action === 'reject') {
              if (seq > 0) built.unshift(entry(seq, 'reject', serving, st.to, at));
              continue;
            }
            if (st.to === serving) continue;
            seq += 1;
            built.unshift(
              entry(seq, st.action === 'rollback' && seq > 1 ? 'rollback' : 'promote', serving, st.to, at),
            );
            serving = st.to;
          }
          if (!serving) return;
          let target: string;
          try {
            target = rollbackTarget('churn', 'production', pointer(serving, seq), built, named ?? undefined);
          } catch {
            return; // refusing is always allowed
          }
          const lastServed = built.find((e) => e.action !== 'reject' && e.toVersion === target);
          expect(lastServed, `${target} served before`).toBeDefined();
          expect(target).not.toBe(serving);
          const rejectedSince = built.some(
            (e) => e.action === 'reject' && e.toVersion === target && e.seq >= (lastServed?.seq ?? 0),
          );
          expect(rejectedSince).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
