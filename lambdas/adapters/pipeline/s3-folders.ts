import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { ValidationError } from '../../domain/errors.js';
import type { S3Location, S3Objects } from '../s3-objects.js';

/** A local folder mirrored to and from an S3 prefix (the stager's outputs and checkpoints). */

/** Files under `root` (recursively), as relative `/`-separated paths, sorted; symlinks and folders skipped. */
export async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(relative(root, full).split(sep).join('/'));
    }
  }
  await walk(root);
  return out.sort();
}

async function md5(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Uploads every file of `dir` under `prefix` (a key prefix ending in /), skipping files whose
 * remote copy has the same MD5 (single-part ETag); with `prune`, deletes remote keys under the
 * prefix that are no longer local, after the uploads (so a reader never sees fewer files).
 */
export async function uploadFolder(
  objects: S3Objects,
  dir: string,
  dest: { bucket: string; prefix: string },
  options: { prune?: boolean; skipUnchanged?: boolean } = {},
): Promise<{ uploaded: string[]; deleted: string[] }> {
  const local = await filesUnder(dir);
  const remote = new Map(
    (await objects.list(dest.bucket, dest.prefix)).map((o) => [o.key.slice(dest.prefix.length), o]),
  );
  const uploaded: string[] = [];
  for (const name of local) {
    const path = join(dir, name);
    const loc = { bucket: dest.bucket, key: `${dest.prefix}${name}` };
    if (options.skipUnchanged && remote.has(name)) {
      const head = await objects.head(loc);
      if (head && head.size === (await stat(path)).size && head.etag === (await md5(path))) continue;
    }
    await objects.putFile(loc, path);
    uploaded.push(name);
  }
  const stale = options.prune ? [...remote.keys()].filter((name) => !local.includes(name)) : [];
  if (stale.length > 0) {
    await objects.deleteAll(
      dest.bucket,
      stale.map((name) => `${dest.prefix}${name}`),
    );
  }
  return { uploaded, deleted: stale };
}

/** Downloads every object under `src.prefix` into `dir`, refusing keys that would land outside it. */
export async function downloadFolder(
  objects: S3Objects,
  src: { bucket: string; prefix: string },
  dir: string,
): Promise<string[]> {
  const root = resolve(dir);
  const names: string[] = [];
  for (const o of await objects.list(src.bucket, src.prefix)) {
    const name = o.key.slice(src.prefix.length);
    if (name === '' || name.endsWith('/')) continue; // folder markers
    const target = resolve(root, name);
    if (!target.startsWith(`${root}${sep}`)) {
      throw new ValidationError(`s3://${src.bucket}/${o.key} would land outside ${root}; remove that object`);
    }
    const loc: S3Location = { bucket: src.bucket, key: o.key };
    await objects.getFile(loc, target);
    names.push(name);
  }
  return names;
}
