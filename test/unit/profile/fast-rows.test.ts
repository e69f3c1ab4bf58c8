import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../../lambdas/domain/profile/profile.js';
import type { ProfileOptions } from '../../../lambdas/domain/profile/profile-options.js';
import { Profiler } from '../../../lambdas/domain/profile/profiler.js';
import { csv, line } from '../../support/csv-arbitraries.js';

/**
 * The fast CSV reader must change nothing but speed: on any input, the profile it gives is the
 * one the general reader gives, to the last bit (same values in the same order into the same
 * accumulators). The generated files mix the plain rows it takes with everything it must hand
 * back: quotes, doubled quotes, newlines in quotes, CRLF, exponents, spaces, null tokens,
 * invalid text, long digit strings, ragged and blank lines, over-long rows.
 */

const HEADER = 'x,y,region,label,prediction';
const KINDS = {
  x: 'numeric',
  y: 'numeric',
  region: 'categorical',
  label: 'numeric',
  prediction: 'numeric',
} as const;

function profile(bytes: Buffer, chunk: number, options: ProfileOptions): Profile {
  const p = new Profiler(options);
  for (let o = 0; o < bytes.length; o += chunk) p.push(bytes.subarray(o, o + chunk));
  return p.finish();
}

function bothWays(bytes: Buffer, chunk: number, options: ProfileOptions) {
  const slow = () => profile(bytes, chunk, { ...options, fastRows: false });
  const fast = () => profile(bytes, chunk, options);
  let expected: Profile | Error;
  try {
    expected = slow();
  } catch (err) {
    expected = err as Error;
  }
  if (expected instanceof Error) expect(fast).toThrow(expected.message);
  else expect(JSON.stringify(fast())).toBe(JSON.stringify(expected));
}

describe('fast CSV rows: the same profile as the general reader, bit for bit', () => {
  const settings = { seed: 4242, numRuns: 300 };
  const base: ProfileOptions = {
    format: 'csv',
    maxRowBytes: 200,
    categoricalCap: 6,
    sketchK: 16,
    performance: { label: 'label', prediction: 'prediction' },
  };

  it('with kinds given (as parts of a file are profiled)', () => {
    fc.assert(
      fc.property(csv, (c) => {
        const eol = c.crlf ? '\r\n' : '\n';
        const body = [HEADER, ...c.lines].join(eol) + (c.finalNewline ? eol : '');
        const bytes = Buffer.from(c.bom ? `\uFEFF${body}` : body);
        bothWays(bytes, c.chunk, {
          ...base,
          kinds: KINDS,
          pinAfterRows: Number.POSITIVE_INFINITY,
        });
      }),
      settings,
    );
  });

  it('with kinds inferred and pinned after the first rows', () => {
    fc.assert(
      fc.property(csv, fc.integer({ min: 1, max: 60 }), (c, pinAfterRows) => {
        const body = `${[HEADER, ...c.lines].join('\n')}\n`;
        bothWays(Buffer.from(body), c.chunk, { ...base, pinAfterRows });
      }),
      settings,
    );
  });

  it('with kinds left open (a column with no value in the sniffed rows)', () => {
    fc.assert(
      fc.property(csv, (c) => {
        const body = `${[HEADER, ...c.lines].join('\n')}\n`;
        bothWays(Buffer.from(body), c.chunk, {
          ...base,
          kinds: { x: 'numeric', region: 'categorical' },
          pinAfterRows: Number.POSITIVE_INFINITY,
        });
      }),
      settings,
    );
  });

  it('on files long enough to fill every batch (rows, numbers, sketch buffers) many times', () => {
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 200, maxLength: 200 }),
        fc.integer({ min: 0, max: 1000 }),
        (odd, seed) => {
          // mostly plain rows, so the fast path runs long stretches between the odd ones
          const lines = [HEADER];
          for (let i = 0; i < 15_000; i++) {
            const x = ((i * 7919 + seed) % 100_003) / 7;
            lines.push(
              i % 75 === 0
                ? (odd[i / 75] as string)
                : `${x.toFixed(3)},-${i % 97},r${i % 11},${i % 2},0.${i % 1000}`,
            );
          }
          bothWays(Buffer.from(`${lines.join('\n')}\n`), 65_536, {
            format: 'csv',
            kinds: KINDS,
            pinAfterRows: Number.POSITIVE_INFINITY,
            performance: { label: 'label', prediction: 'prediction' },
          });
        },
      ),
      { seed: 77, numRuns: 12 },
    );
  });

  it('a profiler started over on other rows (restart) is a new one, to the bit', () => {
    fc.assert(
      fc.property(csv, csv, fc.integer({ min: 1, max: 1000 }), (first, second, seed) => {
        const options: ProfileOptions = { ...base, kinds: KINDS, pinAfterRows: Number.POSITIVE_INFINITY };
        const header = HEADER.split(',');
        const rows = (c: typeof first) => Buffer.from(`${c.lines.join('\n')}\n`);
        const reused = new Profiler(options, header);
        reused.push(rows(first));
        reused.state();
        reused.restart(seed);
        reused.push(rows(second));
        const fresh = new Profiler({ ...options, seed }, header);
        fresh.push(rows(second));
        expect(JSON.stringify(reused.state())).toBe(JSON.stringify(fresh.state()));
      }),
      { seed: 5, numRuns: 200 },
    );
  });

  it('a file thousands of columns wide (shorter batches, many odd fields in one row)', () => {
    const columns = 5000;
    const header = Array.from({ length: columns }, (_, c) => `c${c}`);
    const kinds = Object.fromEntries(
      header.map((h, c) => [h, c % 10 === 9 ? 'categorical' : 'numeric'] as const),
    );
    const lines = [header.join(',')];
    for (let r = 0; r < 300; r++) {
      const odd = r % 7 === 0; // rows where every numeric field is quoted: handed over as bytes
      lines.push(
        header
          .map((_, c) => (c % 10 === 9 ? `v${(r * c) % 13}` : odd ? `"${r + c}"` : `${(r * 31 + c) % 997}.5`))
          .join(','),
      );
    }
    bothWays(Buffer.from(`${lines.join('\n')}\n`), 1 << 20, {
      format: 'csv',
      kinds,
      pinAfterRows: Number.POSITIVE_INFINITY,
    });
  });

  it('past the category table (more distinct values than it holds) and the cap', () => {
    const lines = [HEADER];
    for (let i = 0; i < 5000; i++) lines.push(`${i},${i % 7},c${(i * 7919) % 1500},${i % 2},0.${i % 10}`);
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    for (const categoricalCap of [6, 2000]) {
      bothWays(bytes, 4096, {
        format: 'csv',
        categoricalCap,
        kinds: { region: 'categorical' },
        pinAfterRows: Number.POSITIVE_INFINITY,
      });
    }
  });
});
