import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { profileSource } from '../../../lambdas/adapters/drift/parallel-profile.js';
import {
  type PartResult,
  type PartTask,
  partsProfile,
  profilePart,
  profileParts,
} from '../../../lambdas/adapters/drift/profile-part.js';
import { type RangeSource, readFrom, s3ClientRecipe } from '../../../lambdas/adapters/drift/range-reader.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { DataError } from '../../../lambdas/domain/errors.js';
import { Random } from '../../../lambdas/domain/ml/random.js';
import type { Profile } from '../../../lambdas/domain/profile/profile.js';
import type { ProfileOptions } from '../../../lambdas/domain/profile/profile-options.js';
import { profileBytes } from '../../../lambdas/domain/profile/profiler.js';
import { ProfilerStateMerger } from '../../../lambdas/domain/profile/profiler-state.js';
import { startTestS3 } from '../../support/emulators.js';
import { expectSameProfile } from '../../support/profile-compare.js';

const dir = mkdtempSync(join(tmpdir(), 'mlcycle-ranges-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(name: string, bytes: Buffer): RangeSource {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { kind: 'file', path, size: bytes.length };
}

/**
 * A CSV built to trip byte-range splitting: quoted fields with newlines and commas (so a part's
 * guess at its first row is often wrong), ragged and blank lines, over-long rows, CRLF rows.
 */
function trickyCsv(rows: number, seed: number): Buffer {
  const rng = new Random(seed);
  const lines = ['id,amount,note,city,score'];
  for (let i = 0; i < rows; i++) {
    const r = rng.next();
    if (r < 0.01) lines.push('ragged,row');
    else if (r < 0.015) lines.push('');
    else if (r < 0.018) lines.push(`${i},1,${'y'.repeat(700)},Oslo,0`);
    const note =
      rng.next() < 0.2
        ? `"line one\nline two, ""quoted""\n${'z'.repeat(Math.floor(rng.next() * 80))}"`
        : `n${i % 13}`;
    const amount = rng.next() < 0.05 ? '' : rng.logNormal(3, 1).toFixed(4);
    const eol = rng.next() < 0.1 ? '\r' : '';
    lines.push(
      `${i},${amount},${note},"${['Paris, FR', 'Oslo, NO', 'Lima, PE'][i % 3]}",${rng.normal(0, 1).toFixed(6)}${eol}`,
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

const KINDS = {
  id: 'numeric',
  amount: 'numeric',
  note: 'categorical',
  city: 'categorical',
  score: 'numeric',
} as const;

/** Parts profiled in this thread, as the workers would, merged as profileSource merges them. */
async function inThread(
  source: RangeSource,
  dataStart: number,
  headerLines: number,
  partBytes: number,
  options: ProfileOptions,
  header: string[] | undefined,
): Promise<{ profile: Profile; runs: PartTask[] }> {
  const runs: PartTask[] = [];
  const run = (task: PartTask): Promise<PartResult> => {
    runs.push(task);
    return profilePart(task, options, header);
  };
  const merger = new ProfilerStateMerger(options);
  await profileParts(source, dataStart, partBytes, [run, run, run], (part) => merger.add(part.state));
  return { profile: partsProfile(merger.state(), options, headerLines), runs };
}

describe('byte-range parts: every row profiled exactly once, quotes or not', () => {
  const bytes = trickyCsv(3000, 5);
  const options: ProfileOptions = { format: 'csv', kinds: KINDS, maxRowBytes: 512 };
  const header = Object.keys(KINDS);
  const dataStart = bytes.indexOf(0x0a) + 1;
  const whole = profileBytes(bytes, options);

  it('equals the one-pass profile at many part sizes, re-reading parts that guessed wrong', async () => {
    const source = fileOf('tricky.csv', bytes);
    expect(whole.skipped.ragged).toBeGreaterThan(10);
    expect(whole.skipped.oversized).toBeGreaterThan(3);
    let reread = 0;
    for (const partBytes of [997, 4096, 65_536, bytes.length]) {
      const { profile, runs } = await inThread(source, dataStart, 1, partBytes, options, header);
      expectSameProfile(profile, whole);
      const parts = Math.ceil((bytes.length - dataStart) / partBytes);
      reread += runs.length - parts;
      expect(runs.filter((r) => r.knownStart && r.index > 0).length).toBe(runs.length - parts);
    }
    // small parts start inside quoted newlines often: the check caught and fixed those
    expect(reread).toBeGreaterThan(5);
  });

  it('a part with no row start of its own (one long row spans it) hands on the right boundary', async () => {
    const long = Buffer.from(`a,b\n1,"${'q\n'.repeat(3000)}"\n2,x\n3,y\n`);
    const source = fileOf('long-row.csv', long);
    const opts: ProfileOptions = { format: 'csv', kinds: { a: 'numeric', b: 'categorical' } };
    const { profile } = await inThread(source, 4, 1, 500, opts, ['a', 'b']);
    expectSameProfile(profile, profileBytes(long, opts));
    expect(profile.rows).toBe(3);
  });

  it('JSON Lines split anywhere', async () => {
    const rng = new Random(9);
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      lines.push(
        i % 97 === 0 ? 'not json' : JSON.stringify({ x: rng.normal(0, 1), c: ['a', 'b', 'é'][i % 3], i }),
      );
    }
    const json = Buffer.from(`${lines.join('\n')}\n`);
    const opts: ProfileOptions = { format: 'jsonl', kinds: { x: 'numeric', c: 'categorical', i: 'numeric' } };
    const source = fileOf('rows.jsonl', json);
    const { profile } = await inThread(source, 0, 0, 1500, opts, undefined);
    expectSameProfile(profile, profileBytes(json, opts));
  });

  it('on worker threads: the same profile, whatever the number of workers', async () => {
    const source = fileOf('tricky-workers.csv', bytes);
    const inferred = profileBytes(bytes, {
      format: 'csv',
      maxRowBytes: 512,
      pinAfterRows: Number.POSITIVE_INFINITY,
    });
    const one = await profileSource(
      source,
      { format: 'csv', maxRowBytes: 512 },
      { workers: 2, minRangeBytes: 0, partBytes: 5000 },
    );
    const three = await profileSource(
      source,
      { format: 'csv', maxRowBytes: 512 },
      { workers: 3, minRangeBytes: 0, partBytes: 5000 },
    );
    expectSameProfile(one, inferred);
    expect(JSON.stringify(three)).toBe(JSON.stringify(one));
  });
});

describe('S3 ranged reads', () => {
  it('read in many small ranges, two in flight, an object comes back byte for byte from any start', async () => {
    const s3 = await startTestS3();
    try {
      const bucket = await s3.newBucket();
      const bytes = trickyCsv(400, 3);
      const objects = new S3Objects(s3.local.client);
      await objects.put({ bucket, key: 'monitoring/churn/batches/x.csv' }, bytes);
      const head = await objects.head({ bucket, key: 'monitoring/churn/batches/x.csv' });
      const source: RangeSource = {
        kind: 's3',
        bucket,
        key: 'monitoring/churn/batches/x.csv',
        etag: head?.etag ?? '',
        size: bytes.length,
        client: await s3ClientRecipe(s3.local.client),
        rangeBytes: 997,
      };
      for (const [start, expectedEnd] of [
        [0, 5000],
        [1234, 2000],
        [bytes.length - 10, bytes.length],
      ] as const) {
        const chunks: Buffer[] = [];
        for await (const chunk of readFrom(source, start, expectedEnd)) chunks.push(Buffer.from(chunk));
        expect(Buffer.concat(chunks).equals(bytes.subarray(start))).toBe(true);
      }
      // a reader that stops early gets a prefix, and leaves nothing running
      const some: Buffer[] = [];
      for await (const chunk of readFrom(source, 100, 200)) {
        some.push(Buffer.from(chunk));
        if (Buffer.concat(some).length > 3000) break;
      }
      expect(bytes.subarray(100).subarray(0, Buffer.concat(some).length).equals(Buffer.concat(some))).toBe(
        true,
      );
    } finally {
      await s3.stop();
    }
  });

  it('an object replaced while being read (412 to If-Match) is a DataError naming it', async () => {
    const server = createServer((req, res) => {
      expect(req.headers['if-match']).toBe('"etag-1"');
      // the first range read ahead: the part's expected end (10) and a megabyte more
      expect(req.headers.range).toBe('bytes=10-1048585');
      res.writeHead(412, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const source: RangeSource = {
      kind: 's3',
      bucket: 'b',
      key: 'monitoring/churn/batches/day.csv',
      etag: 'etag-1',
      size: 5 << 20,
      client: {
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${port}`,
        forcePathStyle: true,
        credentials: { accessKeyId: 'k', secretAccessKey: 's' },
      },
    };
    try {
      const read = async () => {
        for await (const _ of readFrom(source, 10, 10)) {
          // the first GET fails
        }
      };
      await expect(read()).rejects.toThrow(DataError);
      await expect(read()).rejects.toThrow(/s3:\/\/b\/monitoring\/churn\/batches\/day\.csv was replaced/);
    } finally {
      server.close();
    }
  });
});
