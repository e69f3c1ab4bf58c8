import { NULL_TOKENS } from './csv-field.js';

/* What the general path makes of an entry's bytes (CategoryTable.status). */
/**
 * Seen, but no occurrence counted yet. The first one is counted alone, in its place among the
 * column's values: it decides whether the text gets a name of its own or goes to "other"
 * (ColumnAccumulator's cap), a decision later occurrences only add to.
 */
export const UNCOUNTED = 0;
/** Counted before: more occurrences can be added up and handed over as a total. */
export const COUNTED = 1;
/** A null token ("NA", "null", …, or only spaces): missing. */
export const MISSING = 2;

const MAX_ENTRIES = 1024;
const SLOTS = 2048;
const FNV_OFFSET = 0x811c9dc5 | 0;

/** FNV-1a's first step, for callers that hash a field as they scan it. */
export const HASH_SEED = FNV_OFFSET;

/** One byte into an FNV-1a hash. */
export function hashByte(h: number, b: number): number {
  return Math.imul(h ^ b, 0x01000193);
}

/**
 * The distinct byte strings of one categorical column, so the fast CSV path counts a repeated
 * category with a hash probe and a byte compare instead of building a string per field. Each
 * entry remembers what the general path makes of its bytes (decoded, trimmed text; missing for
 * a null token) and whether an occurrence has been counted yet. Holds at most 1,024 entries:
 * past that, new values of a high-cardinality column go the general way, one string each.
 */
export class CategoryTable {
  private readonly slots = new Int32Array(SLOTS);
  private readonly hashes = new Int32Array(MAX_ENTRIES);
  private readonly starts = new Int32Array(MAX_ENTRIES);
  private readonly lengths = new Int32Array(MAX_ENTRIES);
  private pool = new Uint8Array(1 << 14);
  private poolUsed = 0;
  private size = 0;
  readonly texts: string[] = [];
  readonly status = new Uint8Array(MAX_ENTRIES);
  /** Occurrences of each entry not yet handed to the column (per batch). */
  readonly pending = new Int32Array(MAX_ENTRIES);

  /** Keeps the entries, but as not counted yet (the column starts over). */
  restart(): void {
    for (let e = 0; e < this.size; e++) if (this.status[e] === COUNTED) this.status[e] = UNCOUNTED;
    this.pending.fill(0);
  }

  /** The entry of bytes buf[start, end) with hash h (FNV-1a over the bytes), or -1. */
  find(buf: Buffer, start: number, end: number, h: number): number {
    const length = end - start;
    for (let slot = (h ^ (h >>> 15)) & (SLOTS - 1); ; slot = (slot + 1) & (SLOTS - 1)) {
      const e = (this.slots[slot] as number) - 1;
      if (e < 0) return -1;
      if (this.hashes[e] !== h || this.lengths[e] !== length) continue;
      const at = this.starts[e] as number;
      let i = 0;
      while (i < length && this.pool[at + i] === buf[start + i]) i++;
      if (i === length) return e;
    }
  }

  /** Adds bytes buf[start, end) (not yet in the table); returns the entry, or -1 when full. */
  add(buf: Buffer, start: number, end: number, h: number): number {
    if (this.size === MAX_ENTRIES) return -1;
    const length = end - start;
    if (this.poolUsed + length > this.pool.length) {
      const grown = new Uint8Array(Math.max(this.pool.length * 2, this.poolUsed + length));
      grown.set(this.pool.subarray(0, this.poolUsed));
      this.pool = grown;
    }
    const e = this.size++;
    this.pool.set(buf.subarray(start, end), this.poolUsed);
    this.starts[e] = this.poolUsed;
    this.lengths[e] = length;
    this.hashes[e] = h;
    this.poolUsed += length;
    const text = buf.toString('utf8', start, end).trim();
    this.texts.push(text);
    this.status[e] = NULL_TOKENS.has(text) ? MISSING : UNCOUNTED;
    let slot = (h ^ (h >>> 15)) & (SLOTS - 1);
    while (this.slots[slot] !== 0) slot = (slot + 1) & (SLOTS - 1);
    this.slots[slot] = e + 1;
    return e;
  }
}
