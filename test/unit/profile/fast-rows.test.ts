import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../../lambdas/domain/profile/profile.js';
import { type ProfileOptions, Profiler } from '../../../lambdas/domain/profile/profiler.js';

/**
 * The fast CSV reader must change nothing but speed: on any input, the profile it gives is the
 * one the general reader gives, to the last bit (same values in the same order into the same
 * accumulators). The generated files mix the plain rows it takes with everything it must hand
 * back: quotes, doubled quotes, newlines in quotes, CRLF, exponents, spaces, null tokens,
 * invalid text, long digit strings, ragged and blank lines, over-long rows.
 */

const numericField = fc.oneof(
  { weight: 12, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => x.toFixed(4)) },
  { weight: 6, arbitrary: fc.integer({ min: -99_999, max: 99_999 }).map(String) },
  { weight: 2, arbitrary: fc.constant('') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '1e5',
      '-2.5E-3',
      '+7',
      ' 42 ',
      '3.',
      '.5',
      '-0',
      '-',
      '.',
      'NA',
      'null',
      'abc',
      '"12.5"',
      '"1""2"',
      '0.30000000000000004',
      '123456789012345678',
      '1e999',
      '007',
      '1,5',
    ),
  },
);

const text = fc.constantFrom('eu', 'na', 'apac', 'sa', 'mea', 'x', 'é', '日本');
const categoricalField = fc.oneof(
  { weight: 12, arbitrary: text },
  { weight: 2, arbitrary: fc.constant('') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '"eu"',
      '"a, b"',
      '"say ""hi"""',
      '"two\nlines"',
      '"cr\r\nlf"',
      ' eu',
      'eu ',
      'eu\u00a0',
      'NA',
      'None',
      '""',
      'a"b',
      '42',
      'é"',
    ),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 6 }).filter((s) => !/[,"\n\r]/.test(s)) },
);

const row = fc.tuple(numericField, numericField, categoricalField, numericField, numericField);
const line = fc.oneof(
  { weight: 20, arbitrary: row.map((fields) => fields.join(',')) },
  { weight: 1, arbitrary: fc.constantFrom('', '1,2', '1,2,3,4,5,6', 'x'.repeat(300), ',,,,') },
);

const csv = fc.record({
  lines: fc.array(line, { minLength: 1, maxLength: 120 }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  finalNewline: fc.boolean(),
  chunk: fc.constantFrom(1, 3, 17, 64, 1000, 1 << 20),
});

const HEADER = 'x,y,region,label,prediction';

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
          kinds: {
            x: 'numeric',
            y: 'numeric',
            region: 'categorical',
            label: 'numeric',
            prediction: 'numeric',
          },
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
