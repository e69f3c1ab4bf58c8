import { ArtifactValidationError } from '../errors.js';

/**
 * A minimal, deterministic POSIX ustar writer and reader for model archives (model.tar.gz).
 * Pure: it builds and parses 512-byte headers; the adapter streams file bytes between them and
 * gzips. Determinism: entries sorted by path by the caller, mtime 0, uid/gid 0, no user or group
 * names, modes 0644 (files) and 0755 (directories). So the same model/ folder always packs to the
 * same bytes, and the same sha256.
 */

export const TAR_BLOCK = 512;

export type TarEntryType = 'file' | 'directory';

export interface TarEntry {
  /** Relative path with `/` separators; directories without a trailing slash. */
  readonly path: string;
  readonly type: TarEntryType;
  /** Bytes of a file's content; 0 for a directory. */
  readonly size: number;
}

const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
/** ustar's size field: 11 octal digits. */
export const TAR_MAX_FILE_SIZE = 0o77777777777;

/** Why a relative archive path is unsafe or malformed, or undefined when it is fine. */
export function archivePathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/')) return 'is absolute';
  if (path.includes('\\')) return 'contains a backslash';
  if (path.includes('\0')) return 'contains a NUL byte';
  const parts = path.split('/');
  if (parts.some((p) => p === '..')) return 'climbs out of the folder with ".."';
  if (parts.some((p) => p === '' || p === '.')) return 'has an empty or "." segment';
  return undefined;
}

/** Splits a path into ustar's prefix (≤155 bytes) and name (≤100 bytes) at a `/`. */
function splitName(path: string): { prefix: string; name: string } {
  const bytes = Buffer.byteLength(path);
  if (bytes <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') {
      return { prefix, name };
    }
  }
  throw new ArtifactValidationError(
    `model file path "${path}" is too long to pack (${bytes} bytes; ustar allows a 100-byte name in a 155-byte folder): shorten it in the trainer's model/ folder`,
    { path },
  );
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value, offset, length, 'utf8');
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** The 512-byte ustar header of one entry. */
export function tarHeader(entry: TarEntry): Buffer {
  const problem = archivePathProblem(entry.path);
  if (problem) {
    throw new ArtifactValidationError(`model file path "${entry.path}" ${problem}`, { path: entry.path });
  }
  if (entry.type === 'file' && (!Number.isSafeInteger(entry.size) || entry.size < 0)) {
    throw new ArtifactValidationError(`model file "${entry.path}" has an invalid size ${entry.size}`);
  }
  if (entry.size > TAR_MAX_FILE_SIZE) {
    throw new ArtifactValidationError(
      `model file "${entry.path}" is ${entry.size} bytes; one file in model/ may be at most ${TAR_MAX_FILE_SIZE} bytes (8 GiB): split it`,
      { path: entry.path, size: entry.size },
    );
  }
  const dir = entry.type === 'directory';
  const { prefix, name } = splitName(dir ? `${entry.path}/` : entry.path);
  const block = Buffer.alloc(TAR_BLOCK);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, dir ? DIR_MODE : FILE_MODE);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, dir ? 0 : entry.size);
  writeOctal(block, 136, 12, 0); // mtime
  block.fill(0x20, 148, 156); // checksum placeholder: spaces
  writeString(block, 156, 1, dir ? '5' : '0');
  writeString(block, 257, 6, 'ustar\0');
  writeString(block, 263, 2, '00');
  writeString(block, 345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** Zero bytes that round a file's content up to a whole block. */
export function tarPadding(size: number): Buffer {
  const rest = size % TAR_BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : TAR_BLOCK - rest);
}

/** Two zero blocks: the end of the archive. */
export const tarEnd = (): Buffer => Buffer.alloc(2 * TAR_BLOCK);

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

function readOctal(block: Buffer, offset: number, length: number, what: string): number {
  const text = readString(block, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new ArtifactValidationError(`model archive: bad ${what} field "${text}"`);
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/**
 * Parses one header block: the entry, or 'end' at a zero block. Refuses what this writer never
 * writes (links, devices, unsafe paths), so unpacking an archive cannot escape its folder.
 */
export function parseTarHeader(block: Buffer): TarEntry | 'end' {
  if (block.length !== TAR_BLOCK) throw new ArtifactValidationError('model archive is truncated');
  if (block.every((b) => b === 0)) return 'end';
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  if (readOctal(block, 148, 8, 'checksum') !== sum) {
    throw new ArtifactValidationError('model archive is corrupt: a header checksum does not match');
  }
  const name = readString(block, 0, 100);
  const prefix = readString(block, 345, 155);
  const full = prefix ? `${prefix}/${name}` : name;
  const flag = readString(block, 156, 1);
  const type: TarEntryType | undefined =
    flag === '5' ? 'directory' : flag === '0' || flag === '' ? 'file' : undefined;
  if (!type) {
    throw new ArtifactValidationError(
      `model archive entry "${full}" has type "${flag}"; only files and folders are allowed`,
    );
  }
  const path = full.replace(/\/$/, '');
  const problem = archivePathProblem(path);
  if (problem) throw new ArtifactValidationError(`model archive entry "${full}" ${problem}`);
  return { path, type, size: type === 'file' ? readOctal(block, 124, 12, 'size') : 0 };
}

/** Packs in-memory entries (sorted by path): for small archives and tests; the adapter streams. */
export function packTar(entries: readonly { path: string; data?: Uint8Array }[]): Buffer {
  const sorted = [...entries].sort((a, b) => compareArchivePaths(a.path, b.path));
  const parts: Buffer[] = [];
  for (const e of sorted) {
    const size = e.data?.length ?? 0;
    parts.push(tarHeader({ path: e.path, type: e.data ? 'file' : 'directory', size }));
    if (e.data) parts.push(Buffer.from(e.data), tarPadding(size));
  }
  parts.push(tarEnd());
  return Buffer.concat(parts);
}

/** The order entries are packed in: by UTF-8 bytes of the path, so it is the same on every OS. */
export function compareArchivePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
