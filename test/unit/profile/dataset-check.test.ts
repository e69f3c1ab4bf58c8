import { describe, expect, it } from 'vitest';
import { datasetProblem } from '../../../lambdas/domain/profile/input-guard.js';

const check = (text: string | Buffer, whole = true) =>
  datasetProblem(typeof text === 'string' ? Buffer.from(text) : text, 'churned', whole);

describe('a training dataset is checked before upload', () => {
  it('accepts a CSV with the target column and data rows (BOM, quotes, CRLF)', () => {
    expect(check('a,churned\n1,0\n')).toBeUndefined();
    expect(check('\ufeff"a","churned"\r\n1,0\r\n')).toBeUndefined();
  });

  it('refuses an empty file, a header-only file, and a missing target, naming what is wrong', () => {
    expect(check('')).toBe('it is empty');
    expect(check('a,churned\n')).toBe('it has a header but no data rows');
    expect(check('a,churned')).toBe('it has a header but no data rows');
    expect(check('a,b\n1,2\n')).toMatch(/no target column "churned" \(its columns: a, b\)/);
  });

  it('refuses binary and wrongly encoded files', () => {
    expect(check(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08]))).toMatch(/NUL bytes/);
    expect(
      check(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,churned\n1,0\n', 'utf16le')])),
    ).toMatch(/UTF-16/);
    expect(check(Buffer.from([0x61, 0x2c, 0xc3, 0x28, 0x0a]))).toMatch(/not valid UTF-8/);
  });

  it('a header longer than what was read is said', () => {
    expect(check('a,'.repeat(100), false)).toMatch(/header row is longer/);
  });
});
