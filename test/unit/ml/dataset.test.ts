import { describe, expect, it } from 'vitest';
import { binaryTarget, parseCsv, splitHoldout, toCsv } from '../../../lambdas/domain/ml/dataset.js';

describe('parseCsv', () => {
  it('reads quotes, CRLF line ends and a byte-order mark', () => {
    const text = '\uFEFFid,name,score\r\n1,"Smith, Jo",0.5\r\n2,"say ""hi""",\r\n';
    expect(parseCsv(text, 'data')).toEqual({
      columns: ['id', 'name', 'score'],
      rows: [
        { id: '1', name: 'Smith, Jo', score: '0.5' },
        { id: '2', name: 'say "hi"', score: '' },
      ],
    });
  });

  it('names what is wrong with an empty, header-only, ragged or repeated-column table', () => {
    expect(() => parseCsv('', 'dataset')).toThrow(/dataset is empty/);
    expect(() => parseCsv('a,b\n', 'dataset')).toThrow(/dataset has a header \(a, b\) but no data rows/);
    expect(() => parseCsv('a,b\n1,2\n3\n', 'dataset')).toThrow(
      expect.objectContaining({
        name: 'DataError',
        message: expect.stringMatching(/not readable CSV/),
        // The parser's own error is kept, for the logs.
        cause: expect.objectContaining({ message: expect.any(String) }),
      }),
    );
    expect(() => parseCsv('a,b,a\n1,2,3\n', 'dataset')).toThrow(/column "a" twice/);
  });
});

describe('binaryTarget', () => {
  it('accepts 0/1 in any numeric spelling and true/false', () => {
    const rows = [{ y: '1' }, { y: '0' }, { y: '1.0' }, { y: ' TRUE ' }, { y: 'false' }, { y: 0 }];
    expect(binaryTarget(rows, 'y', 'dataset')).toEqual([1, 0, 1, 1, 0, 0]);
  });

  it('names the data row and the value that is not binary', () => {
    expect(() => binaryTarget([{ y: '1' }, { y: '2' }], 'y', 'dataset')).toThrow(
      'dataset: target "y" must be binary (0/1 or true/false) but data row 2 has "2"',
    );
    expect(() => binaryTarget([{ y: '' }], 'y', 'dataset')).toThrow(/data row 1 has ""/);
  });
});

describe('splitHoldout', () => {
  const rows = Array.from({ length: 1000 }, (_, i) => i);

  it('holds out the requested share, the same rows for the same seed', () => {
    const a = splitHoldout(rows, 0.2, 7);
    expect(a.holdout).toHaveLength(200);
    expect(a.train).toHaveLength(800);
    expect(new Set([...a.train, ...a.holdout]).size).toBe(1000);
    expect(splitHoldout(rows, 0.2, 7)).toEqual(a);
    expect(splitHoldout(rows, 0.2, 8).holdout).not.toEqual(a.holdout);
  });

  it('keeps the original row order on both sides and at least one row each', () => {
    const { train, holdout } = splitHoldout(rows, 0.3, 1);
    expect(train).toEqual([...train].sort((x, y) => x - y));
    expect(holdout).toEqual([...holdout].sort((x, y) => x - y));
    const tiny = splitHoldout([1, 2], 0.01, 1);
    expect([tiny.train.length, tiny.holdout.length]).toEqual([1, 1]);
  });

  it('refuses a fraction outside (0, 1)', () => {
    expect(() => splitHoldout(rows, 1, 1)).toThrow(/holdout fraction 1/);
  });
});

describe('toCsv', () => {
  it('round-trips through parseCsv, quoting only where needed', () => {
    const rows = [
      { a: 'x,y', b: 'plain', c: null },
      { a: 'he said "no"', b: 'line\nbreak', c: 3 },
    ];
    const text = toCsv(['a', 'b', 'c'], rows);
    expect(text.split('\n')[1]).toBe('"x,y",plain,');
    expect(parseCsv(text, 'round trip').rows).toEqual([
      { a: 'x,y', b: 'plain', c: '' },
      { a: 'he said "no"', b: 'line\nbreak', c: '3' },
    ]);
  });
});
