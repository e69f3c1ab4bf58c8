import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { ArtifactValidationError } from '../../domain/errors.js';
import {
  compareArchivePaths,
  parseTarHeader,
  TAR_BLOCK,
  type TarEntry,
  tarEnd,
  tarHeader,
  tarPadding,
} from '../../domain/ml/tar.js';
import { digestStream } from '../digest-stream.js';

/**
 * Packs a model/ folder into a deterministic model.tar.gz (lambdas/domain/ml/tar.ts) and back,
 * streaming: a model of several GiB never sits in memory.
 */

/** Every file and folder under `root`, sorted; refuses symlinks and special files. */
export async function listTree(root: string): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  async function walk(dir: string): Promise<void> {
    for (const name of await readdir(dir)) {
      const full = join(dir, name);
      const path = relative(root, full).split(sep).join('/');
      const st = await lstat(full);
      if (st.isSymbolicLink()) {
        throw new ArtifactValidationError(
          `model/${path} is a symbolic link; the model folder must hold real files: copy the target in instead`,
          { path },
        );
      }
      if (st.isDirectory()) {
        out.push({ path, type: 'directory', size: 0 });
        await walk(full);
      } else if (st.isFile()) {
        out.push({ path, type: 'file', size: st.size });
      } else {
        throw new ArtifactValidationError(`model/${path} is not a regular file or folder`, { path });
      }
    }
  }
  await walk(root);
  return out.sort((a, b) => compareArchivePaths(a.path, b.path));
}

/** Packs `dir` into `archiveFile` (tar + gzip); the archive's sha256 and size. */
export async function packDirectory(
  dir: string,
  archiveFile: string,
): Promise<{ sha256: string; bytes: number }> {
  const entries = await listTree(dir);
  async function* tar(): AsyncGenerator<Buffer> {
    for (const entry of entries) {
      yield tarHeader(entry);
      if (entry.type !== 'file') continue;
      let read = 0;
      for await (const chunk of createReadStream(join(dir, entry.path))) {
        read += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (read !== entry.size) {
        throw new ArtifactValidationError(
          `model/${entry.path} changed while it was being packed (${entry.size} → ${read} bytes)`,
        );
      }
      yield tarPadding(entry.size);
    }
    yield tarEnd();
  }
  const digest = digestStream();
  await mkdir(dirname(archiveFile), { recursive: true });
  await pipeline(
    Readable.from(tar()),
    createGzip({ level: 6 }),
    digest.stream,
    createWriteStream(archiveFile),
  );
  return digest.result();
}

/** Reads exact byte counts from a stream of chunks. */
class ChunkReader {
  private buffered: Buffer = Buffer.alloc(0);
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(): Promise<boolean> {
    const next = await this.source.next();
    if (next.done) return false;
    this.buffered = Buffer.concat([this.buffered, next.value]);
    return true;
  }

  /** Exactly `n` bytes, or undefined at the end of the stream. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.buffered.length < n) {
      if (!(await this.fill())) {
        if (this.buffered.length === 0) return undefined;
        throw new ArtifactValidationError('model archive is truncated');
      }
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  /** Between 1 and `n` bytes (whatever is at hand); throws at the end of the stream. */
  async readSome(n: number): Promise<Buffer> {
    if (this.buffered.length === 0 && !(await this.fill())) {
      throw new ArtifactValidationError('model archive is truncated');
    }
    const out = this.buffered.subarray(0, Math.min(n, this.buffered.length));
    this.buffered = this.buffered.subarray(out.length);
    return out;
  }
}

/** Unpacks a model.tar.gz written by packDirectory into `dir` (created); refuses anything unsafe. */
export async function unpackArchive(archiveFile: string, dir: string): Promise<void> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  async function extract(source: AsyncIterable<Buffer>): Promise<void> {
    const reader = new ChunkReader(source[Symbol.asyncIterator]());
    for (;;) {
      const block = await reader.read(TAR_BLOCK);
      if (!block) throw new ArtifactValidationError('model archive ends without its end marker (truncated)');
      const entry = parseTarHeader(block);
      if (entry === 'end') return;
      const target = resolve(root, entry.path);
      if (!target.startsWith(`${root}${sep}`)) {
        throw new ArtifactValidationError(`model archive entry "${entry.path}" would land outside ${root}`);
      }
      if (entry.type === 'directory') {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      const file = await open(target, 'wx');
      try {
        for (let left = entry.size; left > 0; ) {
          const chunk = await reader.readSome(Math.min(left, 1 << 20));
          await file.write(chunk);
          left -= chunk.length;
        }
      } finally {
        await file.close();
      }
      const padding = tarPadding(entry.size).length;
      if (padding > 0 && !(await reader.read(padding))) {
        throw new ArtifactValidationError('model archive is truncated');
      }
    }
  }
  try {
    await pipeline(createReadStream(archiveFile), createGunzip(), extract);
  } catch (err) {
    if (err instanceof ArtifactValidationError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') {
      throw new ArtifactValidationError(
        `${archiveFile} is not a gzip archive (${(err as Error).message})`,
        undefined,
        {
          cause: err,
        },
      );
    }
    if (code === 'EEXIST') {
      throw new ArtifactValidationError(
        `model archive holds the same file twice (${(err as Error).message})`,
        undefined,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}
