import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import S3rver from 's3rver';
import { afterAll, describe, expect, it } from 'vitest';
import { awaitObjectWrites } from '../../local/emulators/s3-durable-writes.js';

/**
 * s3rver answered a PUT before the object's file was written, so a GET right after could read
 * an empty body (a CI run did). With awaitObjectWrites the store's putObject settles only when
 * the whole file is on disk, whatever the size or the kind of body.
 */
describe('local S3: an object is written before its PUT is answered', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-s3-writes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const server = new S3rver({ silent: true, directory: dir });
  awaitObjectWrites(server.store);

  it('a large buffer is all on disk, with its md5, when putObject resolves', async () => {
    const body = Buffer.alloc(48 * 1024 * 1024, 7);
    const out = await server.store.putObject({ bucket: 'b', key: 'big.bin', content: body, metadata: {} });
    const path = server.store.getResourcePath('b', 'big.bin', 'object');
    expect(statSync(path).size).toBe(body.length);
    expect(out.size).toBe(body.length);
    expect(out.md5).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a stream body, in chunks, is all on disk when putObject resolves', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(64 * 1024, i));
    await server.store.putObject({
      bucket: 'b',
      key: 'streamed.bin',
      content: Readable.from(chunks),
      metadata: {},
    });
    const written = readFileSync(server.store.getResourcePath('b', 'streamed.bin', 'object'));
    expect(written.length).toBe(64 * 64 * 1024);
    expect(written.at(-1)).toBe(63);
  });
});
