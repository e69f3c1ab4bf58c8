import { describe, expect, it } from 'vitest';
import { profileStream } from '../../../lambdas/adapters/drift/parallel-profile.js';
import { DataError } from '../../../lambdas/domain/errors.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import type { Profile } from '../../../lambdas/domain/profile/profile.js';
import type { ProfileOptions } from '../../../lambdas/domain/profile/profile-options.js';
import { profileBytes } from '../../../lambdas/domain/profile/profiler.js';
import { expectSameProfile } from '../../support/profile-compare.js';

async function* chunked(bytes: Buffer, size: number): AsyncIterable<Buffer> {
  for (let o = 0; o < bytes.length; o += size) yield bytes.subarray(o, o + size);
}

/** The three ways a file is profiled: in one piece, streamed in tiny chunks, split across workers. */
async function allWays(
  text: string | Buffer,
  options: ProfileOptions = { format: 'csv' },
): Promise<Profile[]> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  return [
    profileBytes(bytes, options),
    await profileStream(chunked(bytes, 7), options, { workers: 0 }),
    await profileStream(chunked(bytes, 5), options, { workers: 2, blockBytes: 16 }),
  ];
}

async function failsAllWays(text: string, pattern: RegExp, options: ProfileOptions = { format: 'csv' }) {
  expect(() => profileBytes(Buffer.from(text), options)).toThrow(DataError);
  expect(() => profileBytes(Buffer.from(text), options)).toThrow(pattern);
  await expect(
    profileStream(chunked(Buffer.from(text), 3), options, { workers: 2, blockBytes: 16 }),
  ).rejects.toThrow(pattern);
}

describe('bad input: each case is a clear error or a per-column warning, never a crash', () => {
  it('an empty file is a DataError', async () => {
    await failsAllWays('', /the file is empty/);
    await failsAllWays('\n\n', /the file is empty/);
  });

  it('more columns than maxColumns is a DataError naming the cap, however late they appear', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ a: i, [`k${i}`]: i }));
    await failsAllWays(`${lines.join('\n')}\n`, /more than monitoring\.maxColumns 5/, {
      format: 'jsonl',
      maxColumns: 5,
    });
    await failsAllWays('a,b,c,d,e,f\n1,2,3,4,5,6\n', /6 columns, more than monitoring\.maxColumns 5/, {
      format: 'csv',
      maxColumns: 5,
    });
  });

  it('a header-only file is a DataError', async () => {
    await failsAllWays('a,b,c\n', /header but no data rows/);
    await failsAllWays('a,b,c', /header but no data rows/);
  });

  it('ragged rows are skipped and counted, with their line numbers', async () => {
    for (const p of await allWays('a,b\n1,2\n3\n4,5\n6,7,8\n9,10\n')) {
      expect(p.rows).toBe(3);
      expect(p.skipped.ragged).toBe(2);
      expect(p.skipped.examples).toEqual([3, 5]);
      expect(p.warnings.join('\n')).toMatch(/2 rows skipped: wrong number of fields .*line 3/);
    }
  });

  it('a non-numeric value in a numeric column is a per-column warning and counts as missing', async () => {
    const text = 'x,y\n1,a\n2,b\nabc,c\n4,d\n';
    for (const p of await allWays(text, { format: 'csv', kinds: { x: 'numeric' } })) {
      const x = p.columns.x;
      expect(x?.kind).toBe('numeric');
      if (x?.kind !== 'numeric') throw new Error('x should be numeric');
      expect(x.count).toBe(3);
      expect(x.invalid).toBe(1);
      expect(p.warnings.join('\n')).toMatch(
        /column "x": 1 non-numeric values \(e\.g\. "abc"\) counted as missing/,
      );
    }
    // without a pinned kind, a text value in the first rows makes the column categorical
    expect((await allWays(text))[0]?.columns.x?.kind).toBe('categorical');
  });

  it('a UTF-8 BOM and CRLF line ends are handled', async () => {
    const text = '\uFEFFid,score,label\r\n1,0.5,a\r\n2,1.5,b\r\n3,2.5,c';
    for (const p of await allWays(text)) {
      expect(Object.keys(p.columns)).toEqual(['id', 'score', 'label']);
      expect(p.rows).toBe(3);
      const score = p.columns.score;
      if (score?.kind !== 'numeric') throw new Error('score should be numeric');
      expect(score.mean).toBeCloseTo(1.5, 12);
      const label = p.columns.label;
      if (label?.kind !== 'categorical') throw new Error('label should be categorical');
      expect(Object.keys(label.counts).sort()).toEqual(['a', 'b', 'c']);
    }
  });

  it('quoted fields with commas, newlines and doubled quotes stay one field', async () => {
    const text =
      'id,comment,x\n1,"hello, world",1\n2,"two\nlines, and ""quotes""",2\n3,plain,3\n4,"a\r\nb",4\n';
    for (const p of await allWays(text)) {
      expect(p.rows).toBe(4);
      expect(p.skipped.ragged).toBe(0);
      const c = p.columns.comment;
      if (c?.kind !== 'categorical') throw new Error('comment should be categorical');
      expect(Object.keys(c.counts).sort()).toEqual([
        'a\r\nb',
        'hello, world',
        'plain',
        'two\nlines, and "quotes"',
      ]);
    }
  });

  it('a file ending inside a quoted field drops that row with a warning', async () => {
    for (const p of await allWays('a,b\n1,2\n3,"never closed\n4,5\n')) {
      expect(p.rows).toBe(1);
      expect(p.warnings.join('\n')).toMatch(/ends inside a quoted field/);
    }
  });

  it('a very long single line is skipped with a warning; the rest is profiled', async () => {
    const long = `9,${'x'.repeat(3 << 20)}\n`;
    const text = Buffer.from(`a,b\n1,p\n${long}2,q\n3,r\n`);
    const options: ProfileOptions = { format: 'csv' };
    const ways = [
      profileBytes(text, options),
      await profileStream(chunked(text, 64 << 10), options, { workers: 0 }),
      await profileStream(chunked(text, 64 << 10), options, { workers: 2, blockBytes: 8 }),
    ];
    for (const p of ways) {
      expect(p.rows).toBe(3);
      expect(p.skipped.oversized).toBe(1);
      expect(p.warnings.join('\n')).toMatch(/1 rows skipped: longer than 1048576 bytes/);
    }
    // a first line that long leaves no header: an error, not a data row taken for one
    await failsAllWays(`${'y'.repeat(2 << 20)}\n1,2\n`, /no usable header/);
  });

  it('JSON Lines: objects profiled by key, broken lines and non-objects skipped and counted', async () => {
    const lines = [
      '{"x": 1, "c": "a"}',
      '{"x": 2.5, "c": "b", "late": true}',
      'not json',
      '[1,2]',
      '',
      '{"x": null, "c": "a"}',
      '{"x": "3", "c": "é"}',
    ];
    for (const p of await allWays(`\uFEFF${lines.join('\n')}\n`, { format: 'jsonl' })) {
      expect(p.rows).toBe(4);
      expect(p.skipped.ragged).toBe(2);
      const x = p.columns.x;
      if (x?.kind !== 'numeric') throw new Error('x should be numeric');
      expect(x.count).toBe(3);
      expect(x.missing).toBe(1);
      const c = p.columns.c;
      if (c?.kind !== 'categorical') throw new Error('c should be categorical');
      expect(c.counts).toEqual({ a: 2, b: 1, é: 1 });
      // a key first seen in row 2 was missing from row 1 and the rest
      expect(p.columns.late?.missing).toBe(3);
    }
  });

  it('an empty column is reported, not a crash', async () => {
    for (const p of await allWays('a,b\n1,\n2,\n3,\n')) {
      expect(p.columns.b?.count).toBe(0);
      expect(p.warnings.join('\n')).toMatch(/column "b" has no values/);
    }
  });
});

describe('parallel profiling equals the one-pass profile', () => {
  it('same counts, moments and categories; sketches within the bound; same skipped line numbers', async () => {
    const rng = new Random(21);
    const rows = ['id,amount,"city, country",note,score'];
    for (let i = 0; i < 60_000; i++) {
      if (i % 9_973 === 5) rows.push('ragged,row'); // a skipped row now and then
      const note = rng.next() < 0.05 ? `"multi\nline, ""quoted"" ${i % 7}"` : `n${i % 13}`;
      const amount = rng.next() < 0.03 ? '' : rng.logNormal(3, 1).toFixed(4);
      rows.push(
        `${i},${amount},"${['Paris, FR', 'Oslo, NO', 'Lima, PE'][i % 3]}",${note},${rng.normal(0, 1).toFixed(6)}`,
      );
    }
    const bytes = Buffer.from(`${rows.join('\n')}\n`);
    const one = profileBytes(bytes, { format: 'csv' });
    const parallel = await profileStream(
      chunked(bytes, 100_000),
      { format: 'csv' },
      { workers: 2, blockBytes: 200_000 },
    );
    expectSameProfile(parallel, one);
  });
});
