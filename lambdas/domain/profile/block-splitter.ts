import type { DataFormat } from './profile-options.js';

const QUOTE = 0x22;
const LF = 0x0a;

/** A block of whole data rows and its place in the file. */
export interface RowBlock {
  readonly index: number;
  readonly bytes: Buffer;
  /** Rows longer than the limit that were dropped just before this block (for row numbers). */
  readonly skippedBefore: number;
}

/**
 * Cuts a stream of bytes into blocks of whole rows (~blockBytes each) for profiling in parallel,
 * touching each byte only with memchr-speed searches: for CSV it tracks quote parity (RFC 4180
 * doubles quotes inside quoted fields, so a newline ends a row exactly when the quotes before it
 * since the last row end are even), so quoted fields with newlines never straddle blocks. The
 * CSV header row is split off first; a UTF-8 BOM is dropped. A row with no end within
 * maxRowBytes is dropped and counted, so one 100 MB line never sits in memory.
 */
export class BlockSplitter {
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Bytes after the last row end (the row in progress), as slices. */
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private inQuotes = false;
  private skipping = false;
  private atStart = true;
  private index = 0;
  private skippedSinceBlock = 0;
  /** The CSV header row's bytes, once seen. */
  header: Buffer | undefined;
  /** Rows dropped for length. */
  oversized = 0;
  /** True when the first row (the header) was too long. */
  headerOversized = false;

  constructor(
    private readonly format: DataFormat,
    private readonly blockBytes = 4 << 20,
    private readonly maxRowBytes = 1 << 20,
    /** Memory for a block of `size` bytes (a pool can recycle buffers workers hand back). */
    private readonly alloc: (size: number) => Buffer = (size) => Buffer.from(new ArrayBuffer(size)),
  ) {}

  /** The last row end (index of its LF) in chunk[from, len), given the parity at `from`. */
  private lastRowEnd(chunk: Buffer, from: number): number {
    if (this.format !== 'csv') return chunk.lastIndexOf(LF);
    let last = -1;
    let pos = from;
    for (;;) {
      const q = chunk.indexOf(QUOTE, pos);
      const segmentEnd = q < 0 ? chunk.length : q;
      if (!this.inQuotes && segmentEnd > pos) {
        const lf = chunk.lastIndexOf(LF, segmentEnd - 1);
        if (lf >= pos) last = lf;
      }
      if (q < 0) return last;
      this.inQuotes = !this.inQuotes;
      pos = q + 1;
    }
  }

  /** The first row end in chunk[from, len) (updating parity up to it), or -1. */
  private firstRowEnd(chunk: Buffer, from: number): number {
    if (this.format !== 'csv') return chunk.indexOf(LF, from);
    let pos = from;
    for (;;) {
      const q = chunk.indexOf(QUOTE, pos);
      if (!this.inQuotes) {
        const lf = chunk.indexOf(LF, pos);
        if (lf >= 0 && (q < 0 || lf < q)) return lf;
      }
      if (q < 0) return -1;
      this.inQuotes = !this.inQuotes;
      pos = q + 1;
    }
  }

  push(chunk: Buffer): RowBlock[] {
    const out: RowBlock[] = [];
    if (this.atStart) {
      if (chunk.length < 3 && this.tailBytes + chunk.length < 3) {
        this.tail.push(chunk);
        this.tailBytes += chunk.length;
        return out;
      }
      const head = this.tail.length ? Buffer.concat([...this.tail, chunk]) : chunk;
      this.tail = [];
      this.tailBytes = 0;
      this.atStart = false;
      chunk = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? head.subarray(3) : head;
    }
    let from = 0;
    if (this.skipping) {
      const end = this.firstRowEnd(chunk, 0);
      if (end < 0) return out;
      this.skipping = false;
      from = end + 1;
    }
    if (this.format === 'csv' && !this.header) {
      while (!this.header) {
        const end = this.firstRowEnd(chunk, from);
        if (end < 0) break;
        const row = this.takeTail(chunk.subarray(from, end));
        from = end + 1;
        // blank lines before the header are skipped, as the scanner does
        if (row.length && !(row.length === 1 && row[0] === 0x0d)) this.header = row;
      }
      if (!this.header) {
        this.addTail(chunk.subarray(from));
        this.checkTail(out);
        return out;
      }
    }
    const end = this.lastRowEnd(chunk, from);
    if (end < 0) {
      this.addTail(chunk.subarray(from));
      this.checkTail(out);
      return out;
    }
    // everything up to `end` is whole rows: the row in progress, then this chunk's rows
    for (const t of this.tail) this.addPart(t);
    this.tail = [];
    this.tailBytes = 0;
    this.addPart(chunk.subarray(from, end + 1));
    this.addTail(chunk.subarray(end + 1));
    if (this.partsBytes >= this.blockBytes) out.push(this.emit());
    this.checkTail(out);
    return out;
  }

  end(): RowBlock[] {
    const out: RowBlock[] = [];
    if (this.atStart && this.tailBytes) {
      const head = Buffer.concat(this.tail);
      this.tail = [];
      this.tailBytes = 0;
      this.atStart = false;
      return this.push(head).concat(this.end());
    }
    if (this.format === 'csv' && !this.header && this.tailBytes) {
      const row = Buffer.concat(this.tail);
      if (row.length && !(row.length === 1 && row[0] === 0x0d)) this.header = row;
      this.tail = [];
      this.tailBytes = 0;
    }
    for (const t of this.tail) this.addPart(t);
    this.tail = [];
    this.tailBytes = 0;
    if (this.partsBytes || this.skippedSinceBlock) out.push(this.emit());
    return out;
  }

  private takeTail(rest: Buffer): Buffer {
    const row = this.tail.length ? Buffer.concat([...this.tail, rest]) : Buffer.from(rest);
    this.tail = [];
    this.tailBytes = 0;
    return row;
  }

  private addTail(b: Buffer): void {
    if (!b.length) return;
    this.tail.push(b);
    this.tailBytes += b.length;
  }

  /** A row in progress past the limit is dropped; the rest of it is skipped as it arrives. */
  private checkTail(out: RowBlock[]): void {
    if (this.tailBytes <= this.maxRowBytes) return;
    if (this.format === 'csv' && !this.header) this.headerOversized = true;
    this.tail = [];
    this.tailBytes = 0;
    this.skipping = true;
    this.oversized++;
    // rows before it are complete: send them, so row numbers stay in order
    if (this.partsBytes) out.push(this.emit());
    this.skippedSinceBlock++;
  }

  private addPart(b: Buffer): void {
    if (!b.length) return;
    this.parts.push(b);
    this.partsBytes += b.length;
  }

  private emit(): RowBlock {
    // one copy into a buffer of its own, so it can be transferred to a worker thread
    const bytes = this.alloc(this.partsBytes);
    let o = 0;
    for (const p of this.parts) {
      bytes.set(p, o);
      o += p.length;
    }
    const block = { index: this.index++, bytes, skippedBefore: this.skippedSinceBlock };
    this.parts = [];
    this.partsBytes = 0;
    this.skippedSinceBlock = 0;
    return block;
  }
}
