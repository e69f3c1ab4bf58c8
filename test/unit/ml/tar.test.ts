import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactValidationError } from '../../../lambdas/domain/errors.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { packTar, parseTarHeader, TAR_BLOCK, tarHeader } from '../../../lambdas/domain/ml/tar.js';

/** Seeded bytes of a given length. */
function bytes(seed: number, length: number): Uint8Array {
  const rnd = new Random(seed);
  return Uint8Array.from({ length }, () => Math.floor(rnd.next() * 256));
}

const longDir = `${'d'.repeat(90)}/${'e'.repeat(40)}`;
const entries = [
  { path: 'weights.bin', data: bytes(1, 70_001) },
  { path: 'classes.json', data: new TextEncoder().encode('["a","b","c"]\n') },
  { path: 'empty.txt', data: new Uint8Array(0) },
  { path: 'exact-block.bin', data: bytes(2, TAR_BLOCK) },
  { path: 'sub' },
  { path: 'sub/ünï.txt', data: new TextEncoder().encode('utf-8 name\n') },
  { path: longDir.split('/')[0] as string },
  { path: longDir },
  { path: `${longDir}/tokenizer.json`, data: bytes(3, 1234) },
];

describe('the ustar writer', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is listed by tar -tzf and restored byte for byte by tar -xzf', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlcycle-tar-'));
    dirs.push(dir);
    const archive = join(dir, 'model.tar.gz');
    writeFileSync(archive, gzipSync(packTar(entries)));
    const listed = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual([
      'classes.json',
      'd'.repeat(90) + '/',
      `${longDir}/`,
      `${longDir}/tokenizer.json`,
      'empty.txt',
      'exact-block.bin',
      'sub/',
      'sub/ünï.txt',
      'weights.bin',
    ]);
    const out = join(dir, 'out');
    execFileSync('mkdir', [out]);
    execFileSync('tar', ['-xzf', archive, '-C', out]);
    for (const e of entries) {
      if (e.data)
        expect(Buffer.compare(readFileSync(join(out, e.path)), Buffer.from(e.data)), e.path).toBe(0);
      else expect(statSync(join(out, e.path)).isDirectory(), e.path).toBe(true);
    }
    // Determinism: mtime 0 and owner 0 in what tar reports.
    const verbose = execFileSync('tar', ['--numeric-owner', '-tvzf', archive], { encoding: 'utf8' });
    expect(verbose).toContain('0/0');
    expect(verbose).toContain('1970-01-01');
  });

  it('packs the same entries to the same bytes whatever their order', () => {
    const a = packTar(entries);
    const b = packTar([...entries].reverse());
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it('reads back its own headers, and refuses unsafe or corrupt ones', () => {
    const header = tarHeader({ path: `${longDir}/tokenizer.json`, type: 'file', size: 1234 });
    expect(parseTarHeader(header)).toEqual({ path: `${longDir}/tokenizer.json`, type: 'file', size: 1234 });
    expect(parseTarHeader(Buffer.alloc(TAR_BLOCK))).toBe('end');
    const corrupt = Buffer.from(header);
    corrupt[0] = 'X'.charCodeAt(0);
    expect(() => parseTarHeader(corrupt)).toThrow(/checksum does not match/);
    for (const path of ['../evil', '/etc/passwd', 'a/../../b', 'a//b']) {
      expect(() => tarHeader({ path, type: 'file', size: 1 }), path).toThrow(ArtifactValidationError);
    }
    // A hostile archive built by hand: a "../" name with a valid checksum.
    const hostile = Buffer.from(tarHeader({ path: 'xx/evil', type: 'file', size: 1 }));
    hostile.write('../evil\0', 0, 'utf8');
    hostile.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of hostile) sum += b;
    hostile.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'utf8');
    expect(() => parseTarHeader(hostile)).toThrow(/climbs out of the folder/);
    // A symlink entry (type 2) is refused.
    const link = Buffer.from(tarHeader({ path: 'l', type: 'file', size: 0 }));
    link.write('2', 156, 'utf8');
    link.fill(0x20, 148, 156);
    sum = 0;
    for (const b of link) sum += b;
    link.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'utf8');
    expect(() => parseTarHeader(link)).toThrow(/only files and folders/);
  });

  it('refuses a path too long for ustar, naming it', () => {
    const path = 'x'.repeat(120);
    expect(() => tarHeader({ path, type: 'file', size: 1 })).toThrow(new RegExp(`"${path}" is too long`));
  });
});
