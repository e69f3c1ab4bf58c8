import fc from 'fast-check';

/**
 * Generators of CSV files that mix the plain rows the fast reader takes with everything it
 * must hand back: quotes, doubled quotes, newlines in quotes, CRLF, exponents, spaces, null
 * tokens, invalid text, long digit strings, ragged and blank lines, over-long rows.
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

/** Rows of five columns: x, y (numeric), region (categorical), label, prediction (numeric). */
const row = fc.tuple(numericField, numericField, categoricalField, numericField, numericField);
export const line = fc.oneof(
  { weight: 20, arbitrary: row.map((fields) => fields.join(',')) },
  { weight: 1, arbitrary: fc.constantFrom('', '1,2', '1,2,3,4,5,6', 'x'.repeat(300), ',,,,') },
);

export const csv = fc.record({
  lines: fc.array(line, { minLength: 1, maxLength: 120 }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  finalNewline: fc.boolean(),
  chunk: fc.constantFrom(1, 3, 17, 64, 1000, 1 << 20),
});
