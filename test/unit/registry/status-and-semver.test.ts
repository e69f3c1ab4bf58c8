import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  nextVersion,
  parseVersion,
  versionSortKey,
} from '../../../lambdas/domain/registry/semver.js';
import {
  assertTransition,
  canTransition,
  TRANSITIONS,
  VERSION_STATUSES,
} from '../../../lambdas/domain/registry/status.js';

const version = fc.tuple(fc.nat(2000), fc.nat(2000), fc.nat(2000)).map(([a, b, c]) => `${a}.${b}.${c}`);

describe('semantic versions', () => {
  it('sort keys order exactly as semver does', () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        const bySemver = Math.sign(compareVersions(a, b));
        const byKey = Math.sign(versionSortKey(a).localeCompare(versionSortKey(b)));
        return bySemver === byKey;
      }),
    );
  });

  it('every bump yields a strictly greater version, and bumps reset lower parts', () => {
    fc.assert(
      fc.property(
        version,
        fc.constantFrom('major', 'minor', 'patch') as fc.Arbitrary<'major' | 'minor' | 'patch'>,
        (v, bump) => {
          const next = nextVersion(v, bump);
          return semver.gt(next, v) && (bump !== 'major' || next.endsWith('.0.0'));
        },
      ),
    );
    expect(nextVersion(undefined, 'patch')).toBe('1.0.0');
  });

  it('refuses what is not major.minor.patch, naming the value', () => {
    for (const bad of ['1.2', 'v1.2.3', '1.2.3-rc.1', 'latest', '']) {
      expect(() => parseVersion(bad)).toThrow(`"${bad}"`);
    }
  });
});

describe('status transitions', () => {
  const status = fc.constantFrom(...VERSION_STATUSES);

  it('assertTransition agrees with the table for every pair', () => {
    fc.assert(
      fc.property(status, status, (from, to) => {
        const legal = canTransition(from, to);
        let threw = false;
        try {
          assertTransition('m', '1.0.0', from, to);
        } catch {
          threw = true;
        }
        return legal === !threw;
      }),
    );
  });

  it('archived is final and nothing goes back to training', () => {
    expect(TRANSITIONS.archived).toEqual([]);
    for (const s of VERSION_STATUSES) expect(canTransition(s, 'training')).toBe(false);
  });

  it('every status but archived can reach archived', () => {
    const reach = (from: (typeof VERSION_STATUSES)[number], seen = new Set<string>()): boolean => {
      if (from === 'archived') return true;
      seen.add(from);
      return TRANSITIONS[from].some((n) => !seen.has(n) && reach(n, seen));
    };
    for (const s of VERSION_STATUSES) expect(reach(s), s).toBe(true);
  });
});
